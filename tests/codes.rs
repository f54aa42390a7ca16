//! The error codes of SPEC.md section 10.7: the specification's table and
//! the library's table are the same, every code the vectors carry is in
//! them with its fields, and every code has a vector (except those listed
//! below as still without one).

use std::collections::BTreeSet;

use hotline::code::{CODES, lookup};
use serde_json::Value;

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The rows of the table of SPEC.md section 10.7: code and field names.
fn spec_table() -> Vec<(String, Vec<String>)> {
    let spec = std::fs::read_to_string(root().join("SPEC.md")).unwrap();
    let start = spec.find("\n### 10.7 Error codes\n").expect("section 10.7");
    let end = start + spec[start..].find("\n## 11.").expect("section 11");
    spec[start..end]
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let code = cells[1].trim_matches('`').to_owned();
            let fields = if cells[2] == "(none)" {
                Vec::new()
            } else {
                cells[2]
                    .split(',')
                    .map(|f| f.trim().trim_matches('`').to_owned())
                    .collect()
            };
            (code, fields)
        })
        .collect()
}

#[test]
fn spec_table_is_the_library_table() {
    let spec = spec_table();
    let lib: Vec<(String, Vec<String>)> = CODES
        .iter()
        .map(|e| {
            (
                e.code.to_owned(),
                e.fields.iter().map(|f| (*f).to_owned()).collect(),
            )
        })
        .collect();
    for row in &spec {
        assert!(lib.contains(row), "SPEC 10.7 row {row:?} is not in CODES");
    }
    for row in &lib {
        assert!(spec.contains(row), "CODES row {row:?} is not in SPEC 10.7");
    }
    assert_eq!(spec.len(), lib.len(), "a code is listed twice");
}

/// Every JSON object with a string member `code` in a vector file, checked
/// against the table (field names and order of members aside: JSON objects
/// are unordered), collected with its nested codes.
fn collect(v: &Value, file: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(code)) = map.get("code") {
                let entry = lookup(code)
                    .unwrap_or_else(|| panic!("{file}: code {code} is not in SPEC 10.7"));
                let mut names: Vec<&str> = map
                    .keys()
                    .map(String::as_str)
                    .filter(|k| *k != "code")
                    .collect();
                let mut expected = entry.fields.to_vec();
                names.sort_unstable();
                expected.sort_unstable();
                assert_eq!(names, expected, "{file}: fields of {code}");
                out.insert(code.clone());
            }
            for value in map.values() {
                collect(value, file, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                collect(item, file, out);
            }
        }
        _ => {}
    }
}

fn vector_codes() -> BTreeSet<String> {
    let mut codes = BTreeSet::new();
    let dir = root().join("tests/vectors");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).unwrap();
            let v: Value = serde_json::from_str(&text).unwrap();
            collect(&v, &path.display().to_string(), &mut codes);
        }
    }
    codes
}

/// Codes no vector can produce, each with the reason (SPEC.md section 12
/// lists them): they need more than bytes and a clock.
const NO_VECTOR_POSSIBLE: &[(&str, &str)] = &[
    (
        "encrypt.associated_data_too_long",
        "needs 4 GiB of associated data",
    ),
    ("encrypt.not_ready", "an internal invariant no input breaks"),
    ("relay.unavailable", "a failing relay store"),
    ("store.backend", "a failing storage backend"),
    (
        "template.issuer_unknown",
        "needs a session stored before issuer keys were recorded, whose badge is unverified (13.16 step 2a), so a client refuses with template.not_verified first",
    ),
    (
        "pq.not_enabled",
        "an internal invariant: a session without the ratchet reads a mix flag as a malformed header first",
    ),
];

/// Codes that no vector produces yet. The list must be exactly the codes
/// without a vector (beside [`NO_VECTOR_POSSIBLE`]): a code that gains one
/// must leave it, and a code that loses its vector fails the test.
const WITHOUT_VECTOR: &[&str] = &[];

#[test]
fn codes_without_possible_vector_are_named_in_spec_section_12() {
    let spec = std::fs::read_to_string(root().join("SPEC.md")).unwrap();
    let start = spec
        .find("\n## 12. Conformance vectors\n")
        .expect("section 12");
    let end = start + spec[start..].find("\n## 13.").expect("section 13");
    for (code, _) in NO_VECTOR_POSSIBLE {
        assert!(
            spec[start..end].contains(&format!("`{code}`")),
            "{code} is not named in section 12"
        );
    }
}

#[test]
fn every_code_has_a_vector() {
    let covered = vector_codes();
    let missing: BTreeSet<&str> = CODES
        .iter()
        .map(|e| e.code)
        .filter(|c| !covered.contains(*c))
        .collect();
    let listed: BTreeSet<&str> = WITHOUT_VECTOR
        .iter()
        .copied()
        .chain(NO_VECTOR_POSSIBLE.iter().map(|(c, _)| *c))
        .collect();
    assert_eq!(
        listed.len(),
        WITHOUT_VECTOR.len() + NO_VECTOR_POSSIBLE.len(),
        "a code is listed twice"
    );
    let newly_covered: Vec<_> = listed.difference(&missing).collect();
    let unlisted: Vec<_> = missing.difference(&listed).collect();
    assert!(
        newly_covered.is_empty() && unlisted.is_empty(),
        "codes with a vector but listed as without: {newly_covered:?}; codes without a vector: {unlisted:?}"
    );
}

/// The cases of the verdict lists each name the SPEC section they exercise.
#[test]
fn verdict_cases_name_their_section() {
    let lists: &[(&str, &[&str])] = &[
        ("errors.json", &["cases"]),
        (
            "business.json",
            &[
                "validation",
                "bundles",
                "revocation",
                "statuses",
                "badges",
                "names",
                "decoding/cases",
                "refusals/cases",
            ],
        ),
        (
            "relay.json",
            &[
                "requests",
                "registration",
                "responses",
                "scripts/response_errors",
                "client_refusals/cases",
                "sender_binding/cases",
            ],
        ),
        ("storage.json", &["errors", "compare_and_swap/steps"]),
    ];
    let mut checked = 0;
    for (file, paths) in lists {
        let text = std::fs::read_to_string(root().join("tests/vectors").join(file)).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        for path in *paths {
            let list = path
                .split('/')
                .fold(&v, |v, key| &v[key])
                .as_array()
                .unwrap_or_else(|| panic!("{file}: {path} is not a list"));
            assert!(!list.is_empty(), "{file}: {path} is empty");
            for case in list {
                assert!(
                    case["section"].as_str().is_some_and(|s| !s.is_empty()),
                    "{file}: a case of {path} names no section: {}",
                    case.get("name").unwrap_or(&Value::Null)
                );
                checked += 1;
            }
        }
    }
    let scripts = std::fs::read_to_string(root().join("tests/vectors/relay.json")).unwrap();
    let scripts: Value = serde_json::from_str(&scripts).unwrap();
    for script in scripts["scripts"]["scripts"].as_array().unwrap() {
        for step in script["steps"].as_array().unwrap() {
            assert!(
                step["section"].as_str().is_some(),
                "a script step names no section"
            );
            checked += 1;
        }
    }
    assert!(checked > 300);
}
