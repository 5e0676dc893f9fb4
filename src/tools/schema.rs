//! Rewrites the schemas that schemars derives into the subset every popular
//! MCP client accepts: self-contained (no `$ref`, `$defs` or `$schema`), one
//! `type` string per property (no null unions), enums as plain string
//! `enum`s, no integer `format`s, and `required` always an array.

use serde_json::{Map, Value};

/// The portable form of a tool's input or output schema.
pub fn portable(schema: &Map<String, Value>) -> Map<String, Value> {
    let defs = schema
        .get("$defs")
        .or_else(|| schema.get("definitions"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut root = schema.clone();
    root.remove("$schema");
    root.remove("$defs");
    root.remove("definitions");
    root.remove("title");
    let mut value = Value::Object(root);
    rewrite(&mut value, &defs, 0);
    let mut root = match value {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    root.entry("required")
        .or_insert_with(|| Value::Array(Vec::new()));
    root
}

const MAX_DEPTH: usize = 32;

fn rewrite(value: &mut Value, defs: &Map<String, Value>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => {
            // Unwrapping a null union can expose a `$ref`, and inlining a
            // `$ref` can expose a union: repeat until neither is left.
            for _ in 0..MAX_DEPTH {
                let before = map.len();
                let had_ref = map.contains_key("$ref");
                inline_ref(map, defs);
                drop_null_variant(map);
                if !had_ref && !map.contains_key("$ref") && map.len() == before {
                    break;
                }
            }
            collapse_const_one_of(map);
            simplify(map);
            for child in map.values_mut() {
                rewrite(child, defs, depth + 1);
            }
            if map.get("type").and_then(Value::as_str) == Some("object")
                && map.contains_key("properties")
            {
                map.entry("required")
                    .or_insert_with(|| Value::Array(Vec::new()));
            }
        }
        Value::Array(items) => {
            for item in items {
                rewrite(item, defs, depth + 1);
            }
        }
        _ => {}
    }
}

/// Replaces `{"$ref": "#/$defs/X", ...siblings}` with X merged with the
/// siblings (the siblings win, so a field's own description is kept).
fn inline_ref(map: &mut Map<String, Value>, defs: &Map<String, Value>) {
    let Some(Value::String(reference)) = map.remove("$ref") else {
        return;
    };
    let name = reference.rsplit('/').next().unwrap_or_default();
    if let Some(Value::Object(definition)) = defs.get(name) {
        for (key, value) in definition {
            if key != "title" {
                map.entry(key.clone()).or_insert_with(|| value.clone());
            }
        }
    }
}

/// `anyOf: [X, {type: null}]` becomes X, and `type: [T, "null"]` becomes T:
/// optional values are expressed by leaving them out of `required`.
fn drop_null_variant(map: &mut Map<String, Value>) {
    for key in ["anyOf", "oneOf"] {
        let Some(Value::Array(variants)) = map.get(key) else {
            continue;
        };
        let kept: Vec<Value> = variants
            .iter()
            .filter(|v| !is_null_schema(v))
            .cloned()
            .collect();
        if kept.len() == 1 && kept.len() < variants.len() {
            map.remove(key);
            if let Some(Value::Object(only)) = kept.into_iter().next() {
                for (k, v) in only {
                    map.entry(k).or_insert(v);
                }
            }
        }
    }
    if let Some(Value::Array(types)) = map.get("type") {
        let kept: Vec<Value> = types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .cloned()
            .collect();
        if kept.len() == 1 {
            map.insert("type".into(), kept[0].clone());
        }
    }
    if map.get("default") == Some(&Value::Null) {
        map.remove("default");
    }
}

fn is_null_schema(value: &Value) -> bool {
    value.get("type").and_then(Value::as_str) == Some("null")
        || value.get("const") == Some(&Value::Null)
}

/// `oneOf: [{const: "a"}, {const: "b"}]` becomes `{type: string, enum: [a, b]}`.
fn collapse_const_one_of(map: &mut Map<String, Value>) {
    for key in ["oneOf", "anyOf"] {
        let Some(Value::Array(variants)) = map.get(key) else {
            continue;
        };
        let constants: Option<Vec<Value>> = variants
            .iter()
            .map(|variant| {
                variant
                    .get("const")
                    .filter(|c| c.is_string())
                    .cloned()
                    .or_else(|| {
                        variant
                            .get("enum")
                            .and_then(Value::as_array)
                            .filter(|e| e.len() == 1)
                            .map(|e| e[0].clone())
                    })
            })
            .collect();
        if let Some(constants) = constants {
            map.remove(key);
            map.insert("type".into(), Value::String("string".into()));
            map.insert("enum".into(), Value::Array(constants));
        }
    }
}

/// Drops keywords that some clients reject or misread.
fn simplify(map: &mut Map<String, Value>) {
    if let Some(Value::String(format)) = map.get("format")
        && matches!(
            format.as_str(),
            "uint"
                | "uint8"
                | "uint16"
                | "uint32"
                | "uint64"
                | "int"
                | "int8"
                | "int16"
                | "int32"
                | "int64"
                | "float"
                | "double"
        )
    {
        map.remove("format");
    }
    if map.contains_key("enum") && map.contains_key("const") {
        map.remove("const");
    }
}

/// Trims an output schema to what a validating client needs: no
/// description at the root, on list items or on nested objects (the tool's
/// description and the fields say it), no `minimum: 0` on counts. Field descriptions that carry
/// meaning stay; fields whose name says it all have none in the source.
pub fn slim_output(value: &mut Value, root: bool) {
    let Value::Object(map) = value else {
        return;
    };
    if root {
        map.remove("description");
    }
    if map.get("minimum").and_then(Value::as_u64) == Some(0) {
        map.remove("minimum");
    }
    if let Some(items) = map.get_mut("items") {
        if let Value::Object(items) = items {
            items.remove("description");
        }
        slim_output(items, false);
    }
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        for property in properties.values_mut() {
            // A nested object is described by its own fields.
            if let Value::Object(nested) = property
                && nested.contains_key("properties")
            {
                nested.remove("description");
            }
            slim_output(property, false);
        }
    }
}

/// Gives each string enum among an input schema's properties a `maxLength`
/// (its longest value), so every string argument publishes its limit.
pub fn bound_enums(schema: &mut Map<String, Value>) {
    let Some(Value::Object(properties)) = schema.get_mut("properties") else {
        return;
    };
    for property in properties.values_mut() {
        let Value::Object(property) = property else {
            continue;
        };
        let longest = match property.get("enum") {
            Some(Value::Array(values)) => values
                .iter()
                .filter_map(Value::as_str)
                .map(|v| v.chars().count())
                .max(),
            _ => None,
        };
        if let Some(longest) = longest {
            property.insert("maxLength".into(), Value::from(longest));
        }
    }
}

/// Why a schema is outside the portable subset, if it is. With `described`,
/// every property must also carry a description (input schemas, which the
/// model reads).
pub fn violations(schema: &Value, described: bool) -> Vec<String> {
    let mut found = Vec::new();
    check(schema, "$", true, described, &mut found);
    found
}

fn check(value: &Value, path: &str, is_schema: bool, described: bool, found: &mut Vec<String>) {
    let Some(map) = value.as_object() else {
        return;
    };
    if is_schema {
        for banned in [
            "$ref",
            "$defs",
            "$schema",
            "definitions",
            "anyOf",
            "oneOf",
            "allOf",
            "const",
        ] {
            if map.contains_key(banned) {
                found.push(format!("{path}: has {banned}"));
            }
        }
        if let Some(kind) = map.get("type")
            && !kind.is_string()
        {
            found.push(format!("{path}: type is not a single string"));
        }
        if let Some(Value::String(format)) = map.get("format")
            && (format.starts_with("uint") || format.starts_with("int"))
        {
            found.push(format!("{path}: integer format {format}"));
        }
        if map.get("type").and_then(Value::as_str) == Some("object")
            && map.contains_key("properties")
            && !map.get("required").is_some_and(Value::is_array)
        {
            found.push(format!("{path}: object without a required array"));
        }
    }
    if let Some(Value::Object(properties)) = map.get("properties") {
        for (name, property) in properties {
            let here = format!("{path}.{name}");
            if described
                && property
                    .get("description")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
            {
                found.push(format!("{here}: no description"));
            }
            check(property, &here, true, described, found);
        }
    }
    if let Some(items) = map.get("items") {
        check(items, &format!("{path}[]"), true, described, found);
    }
    if let Some(additional @ Value::Object(_)) = map.get("additionalProperties") {
        check(additional, &format!("{path}{{}}"), true, described, found);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rewrites_schemars_output() {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Params",
            "type": "object",
            "properties": {
                "status": { "description": "Status.", "anyOf": [{ "$ref": "#/$defs/Status" }, { "type": "null" }] },
                "page": { "description": "Page.", "type": ["integer", "null"], "format": "uint32", "minimum": 1 },
                "kind": { "description": "Kind.", "oneOf": [{ "const": "a", "type": "string" }, { "const": "b", "type": "string" }] }
            },
            "$defs": { "Status": { "type": "string", "enum": ["new", "open"] } }
        });
        let portable = Value::Object(portable(schema.as_object().unwrap()));
        assert_eq!(
            portable,
            json!({
                "type": "object",
                "required": [],
                "properties": {
                    "status": { "description": "Status.", "type": "string", "enum": ["new", "open"] },
                    "page": { "description": "Page.", "type": "integer", "minimum": 1 },
                    "kind": { "description": "Kind.", "type": "string", "enum": ["a", "b"] }
                }
            })
        );
        assert!(
            violations(&portable, true).is_empty(),
            "{:?}",
            violations(&portable, true)
        );
    }

    #[test]
    fn finds_violations() {
        let bad = json!({ "type": "object", "properties": { "x": { "$ref": "#/$defs/X" }, "y": { "type": ["string", "null"], "description": "y" } } });
        let found = violations(&bad, true);
        assert!(
            found.iter().any(|v| v.contains("no required array"))
                || found.iter().any(|v| v.contains("required"))
        );
        assert!(found.iter().any(|v| v.contains("$.x: has $ref")));
        assert!(found.iter().any(|v| v.contains("$.x: no description")));
        assert!(
            found
                .iter()
                .any(|v| v.contains("$.y: type is not a single string"))
        );
    }
}
