//! A validator for the portable JSON-schema subset the tools publish
//! (type, properties, required, items, enum, minimum, maximum,
//! additionalProperties), so a test can prove that each result's
//! `structuredContent` matches its tool's `outputSchema`.

use serde_json::Value;

/// Every way `value` breaks `schema`, as JSON paths with reasons.
pub fn validate(schema: &Value, value: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    check(schema, value, "$", &mut problems);
    problems
}

fn check(schema: &Value, value: &Value, path: &str, problems: &mut Vec<String>) {
    if let Some(kind) = schema.get("type").and_then(Value::as_str) {
        let matches = match kind {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            _ => false,
        };
        if !matches {
            problems.push(format!("{path}: expected {kind}, got {value}"));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        problems.push(format!("{path}: {value} not in {allowed:?}"));
    }
    if let (Some(minimum), Some(number)) = (
        schema.get("minimum").and_then(Value::as_f64),
        value.as_f64(),
    ) && number < minimum
    {
        problems.push(format!("{path}: {number} below {minimum}"));
    }
    if let (Some(maximum), Some(number)) = (
        schema.get("maximum").and_then(Value::as_f64),
        value.as_f64(),
    ) && number > maximum
    {
        problems.push(format!("{path}: {number} above {maximum}"));
    }
    if let Some(object) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = name.as_str()
                && !object.contains_key(name)
            {
                problems.push(format!("{path}: missing required {name}"));
            }
        }
        for (name, field) in object {
            let here = format!("{path}.{name}");
            match properties.and_then(|p| p.get(name)) {
                Some(property) => check(property, field, &here, problems),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => problems.push(format!("{here}: not allowed")),
                    Some(extra @ Value::Object(_)) => check(extra, field, &here, problems),
                    _ => {}
                },
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (index, item) in array.iter().enumerate() {
            check(items, item, &format!("{path}[{index}]"), problems);
        }
    }
}

#[test]
fn the_validator_catches_mismatches() {
    let schema = serde_json::json!({
        "type": "object", "required": ["a"],
        "properties": { "a": { "type": "string", "enum": ["x"] }, "n": { "type": "integer", "minimum": 1 } },
        "additionalProperties": false
    });
    assert!(validate(&schema, &serde_json::json!({ "a": "x", "n": 2 })).is_empty());
    assert_eq!(
        validate(&schema, &serde_json::json!({ "n": 0, "z": null, "a": "y" })).len(),
        3
    );
}
