//! The field an error in JSON text is about, from where the reader stopped: `a.b[2].c`.
//! serde_json reports only a line and column; walking the text up to there recovers the path.
//! This replaces a path-tracking deserializer wrapper that cost a tenth of the wasm's size.

enum Frame {
    /// In an object: the key whose value is being read, if any yet.
    Object(Option<String>),
    Array(usize),
}

/// The path of the value being read at byte `offset` of one-line JSON text. `parent` asks for
/// the object being closed there instead: a missing field belongs to it.
pub fn path_at(text: &str, offset: usize, parent: bool) -> String {
    let bytes = text.as_bytes();
    let mut end = offset.min(bytes.len());
    // serde_json reports a missing field just past its object's closing brace.
    if parent && end > 0 && bytes[end - 1] == b'}' {
        end -= 1;
    }
    let mut frames: Vec<Frame> = Vec::new();
    let mut expect_key = false;
    let mut i = 0;
    while i < end {
        match bytes[i] {
            b'"' => {
                let start = i + 1;
                i = start;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if expect_key {
                    if let Some(Frame::Object(key)) = frames.last_mut() {
                        *key = text.get(start..i.min(bytes.len())).map(str::to_string);
                    }
                    expect_key = false;
                }
            }
            b'{' => {
                frames.push(Frame::Object(None));
                expect_key = true;
            }
            b'[' => frames.push(Frame::Array(0)),
            b'}' | b']' => {
                frames.pop();
            }
            b',' => match frames.last_mut() {
                Some(Frame::Object(key)) => {
                    *key = None;
                    expect_key = true;
                }
                Some(Frame::Array(index)) => *index += 1,
                None => {}
            },
            _ => {}
        }
        i += 1;
    }
    if parent {
        if let Some(Frame::Object(key)) = frames.last_mut() {
            *key = None;
        }
    }
    let mut path = String::new();
    for frame in &frames {
        match frame {
            Frame::Object(Some(key)) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Frame::Array(index) => path.push_str(&format!("[{index}]")),
            Frame::Object(None) => {}
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where serde_json stops on a bad field, as its error column says.
    fn path_of_error<T: serde::de::DeserializeOwned + std::fmt::Debug>(text: &str) -> String {
        let err = serde_json::from_str::<T>(text).unwrap_err();
        path_at(text, err.column(), err.to_string().starts_with("missing field"))
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Key {
        kty: String,
        d: String,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    #[serde(rename_all = "camelCase")]
    struct Config {
        client_id: String,
        timeout_ms: Option<u32>,
        key: Option<Key>,
        statuses: Option<Vec<String>>,
    }

    #[test]
    fn names_the_field_serde_json_stopped_at() {
        let cases = [
            (r#"{"clientId":5}"#, "clientId"),
            (r#"{"clientId":"a","timeoutMs":"soon"}"#, "timeoutMs"),
            (r#"{"timeoutMs":1.5,"clientId":"a"}"#, "timeoutMs"),
            (r#"{"clientId":"a","key":{"kty":"EC","d":7}}"#, "key.d"),
            (r#"{"clientId":"a","key":{"kty":"EC"}}"#, "key"),
            (r#"{"clientId":"a","key":[1]}"#, "key[0]"),
            (r#"{"clientId":"a","key":{"kty":{"x":"}"}}}"#, "key.kty"),
            (r#"{"clientId":"a","statuses":["ok",5]}"#, "statuses[1]"),
            (r#"{"clientId":"a\"b,{","timeoutMs":-1}"#, "timeoutMs"),
            (r#"{"timeoutMs":1}"#, ""),
        ];
        for (text, want) in cases {
            assert_eq!(path_of_error::<Config>(text), want, "{text}");
        }
    }

    #[test]
    fn any_offset_of_any_text_is_safe() {
        for text in ["", "{", "\"", "\"\\", "[[[", "}}]]", "{\"a\":\"\\\"", "{\"é\":[1,{\"ü\":2}]}"] {
            for offset in 0..=text.len() + 2 {
                let _ = path_at(text, offset, offset % 2 == 0);
            }
        }
    }
}
