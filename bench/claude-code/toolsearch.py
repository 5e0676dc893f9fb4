#!/usr/bin/env python3
"""What ToolSearch returned for each query of a run of toolsearch.json.
Usage: toolsearch.py RUN_DIR"""
import json,sys
run=sys.argv[1]
reqs=[json.loads(l) for l in open(run+"/requests.jsonl")]
mains=[r for r in reqs if str(r.get("kind","")).startswith("main")]
last=mains[-1]["body"]
qs={}
out=[]
for m in last["messages"]:
    if not isinstance(m["content"],list): continue
    for b in m["content"]:
        if b.get("type")=="tool_use": qs[b["id"]]=b["input"].get("query")
        if b.get("type")=="tool_result" and b["tool_use_id"] in qs:
            c=b["content"]
            names=[x.get("tool_name","?").replace("mcp__cstar__","") for x in c if isinstance(x,dict) and x.get("type")=="tool_reference"] if isinstance(c,list) else [str(c)[:100]]
            out.append((qs[b["tool_use_id"]],names))
for q,n in out: print("%-40s %s"%(q,", ".join(n)))
