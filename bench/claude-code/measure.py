#!/usr/bin/env python3
"""Bytes the model received in one harness run: the cStar tool definitions
loaded (through ToolSearch, or always loaded) plus the text of every cStar
tool result, from the last model request. Usage: measure.py RUN_DIR..."""
import json,sys
def blen(x):
    return len((x if isinstance(x,str) else json.dumps(x,ensure_ascii=False,separators=(",",":"))).encode())
def text_of(c):
    if isinstance(c,str): return c
    return "\n".join(b.get("text","") for b in c if isinstance(b,dict))
def measure(run):
    reqs=[json.loads(l) for l in open(run+"/requests.jsonl")]
    mains=[r for r in reqs if str(r.get("kind","")).startswith("main")]
    last=mains[-1]["body"]
    tools={t["name"]:t for t in last.get("tools") or []}
    names={}; loaded=set(); results=[]
    for m in last["messages"]:
        if not isinstance(m["content"],list): continue
        for b in m["content"]:
            if b.get("type")=="tool_use": names[b["id"]]=b["name"]
            if b.get("type")=="tool_result":
                n=names.get(b["tool_use_id"],"?"); c=b.get("content")
                if isinstance(c,list) and any(isinstance(x,dict) and x.get("type")=="tool_reference" for x in c):
                    loaded|={x["tool_name"] for x in c if x.get("type")=="tool_reference"}
                elif n.startswith("mcp__cstar__"):
                    results.append((n.replace("mcp__cstar__",""),blen(text_of(c)),b.get("is_error")))
    # tools loaded from the start (not deferred)
    loaded|={n for n,t in tools.items() if n.startswith("mcp__cstar__") and not t.get("defer_loading")}
    defs=sum(blen({k:tools[n][k] for k in ("name","description","input_schema") if k in tools[n]}) for n in loaded if n in tools)
    return defs,results
if __name__=="__main__":
    for run in sys.argv[1:]:
        d,r=measure(run)
        print("%-40s defs=%5d results=%s total=%d"%(run.split("/")[-1],d,[(n,b,e) for n,b,e in r],d+sum(b for _,b,_ in r)))
