//! Typed access to a tool call's arguments, each wrong type refused with a
//! sentence naming the parameter.
use crate::domain::naming::WorkspaceName;
use serde_json::{Map, Value};

/// A tool error: the sentence the client gets (isError).
pub type ToolResult<T> = Result<T, String>;

/// A call's arguments.
pub struct Args<'a>(pub &'a Map<String, Value>);

impl<'a> Args<'a> {
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    pub fn string(&self, key: &str) -> ToolResult<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("parameter {key} must be a string")),
        }
    }

    pub fn required(&self, key: &str, op: &str) -> ToolResult<String> {
        match self.string(key)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(format!("operation {op} needs the parameter {key}")),
        }
    }

    pub fn bool(&self, key: &str) -> ToolResult<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(format!("parameter {key} must be true or false")),
        }
    }

    pub fn number(&self, key: &str) -> ToolResult<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .map(Some)
                .ok_or_else(|| format!("parameter {key} must be a number")),
        }
    }

    pub fn strings(&self, key: &str) -> ToolResult<Vec<String>> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(String::from)
                        .ok_or_else(|| format!("parameter {key} must be a list of strings"))
                })
                .collect(),
            Some(_) => Err(format!("parameter {key} must be a list of strings")),
        }
    }

    /// An object of string values, in key order.
    pub fn string_map(&self, key: &str) -> ToolResult<Vec<(String, String)>> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Object(o)) => o
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    Value::Number(n) => Ok((k.clone(), n.to_string())),
                    Value::Bool(b) => Ok((k.clone(), b.to_string())),
                    _ => Err(format!(
                        "parameter {key}: the value of {k} must be a string"
                    )),
                })
                .collect(),
            Some(_) => Err(format!(
                "parameter {key} must be an object of names to strings"
            )),
        }
    }

    pub fn objects(&self, key: &str) -> ToolResult<Vec<&'a Map<String, Value>>> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_object()
                        .ok_or_else(|| format!("parameter {key} must be a list of objects"))
                })
                .collect(),
            Some(_) => Err(format!("parameter {key} must be a list of objects")),
        }
    }

    /// A workspace name from `key`, checked against berth's naming rules.
    pub fn workspace(&self, key: &str, op: &str) -> ToolResult<WorkspaceName> {
        let raw = self.required(key, op)?;
        WorkspaceName::parse(&raw).map_err(|e| format!("{e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wrong_types_are_named() {
        let v = json!({"a": 1, "b": "x", "c": [1], "d": {"K": {"x": 1}}, "n": null});
        let m = v.as_object().unwrap();
        let a = Args(m);
        assert_eq!(a.string("b").unwrap().as_deref(), Some("x"));
        assert_eq!(a.string("n").unwrap(), None);
        assert!(a
            .string("a")
            .unwrap_err()
            .contains("parameter a must be a string"));
        assert!(a.bool("b").unwrap_err().contains("true or false"));
        assert_eq!(a.number("a").unwrap(), Some(1.0));
        assert!(a.strings("c").unwrap_err().contains("list of strings"));
        assert!(a.string_map("d").unwrap_err().contains("value of K"));
        assert!(a
            .required("zz", "exec")
            .unwrap_err()
            .contains("exec needs the parameter zz"));
        assert!(a.workspace("b", "exec").is_ok());
    }
}
