//! Properties over generated requests.

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::common::{manage, policy, read, request};

fn read_i32(bytes: &[u8], at: usize) -> usize {
    i32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        "[a-z0-9:./]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,3}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sets_are_encoded_sorted_and_distinct(
        tags in prop::collection::vec("[a-c]{0,3}", 0..12),
        scores in prop::collection::vec(0i64..=100, 0..12),
    ) {
        let mut value = read();
        value["resource"]["attributes"]["tags"] = json!(tags);
        value["resource"]["attributes"]["scores"] = json!(scores);
        let encoded = policy().encode(&request(&value)).unwrap();
        let bytes = encoded.as_bytes();

        let (start, count) = (read_i32(bytes, 88), read_i32(bytes, 92));
        let decoded: Vec<String> = (0..count).map(|k| {
            let slot = start + 12 * k;
            let (offset, len) = (read_i32(bytes, slot + 4), read_i32(bytes, slot + 8));
            String::from_utf8(bytes[offset..offset + len].to_vec()).unwrap()
        }).collect();
        let expected: Vec<String> = tags.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect();
        prop_assert_eq!(decoded, expected);
        if count > 0 { prop_assert_eq!(start % 8, 0); }

        let (start, count) = (read_i32(bytes, 168), read_i32(bytes, 172));
        let decoded: Vec<i64> = (0..count)
            .map(|k| i64::from_le_bytes(bytes[start + 8 * k..start + 8 * k + 8].try_into().unwrap()))
            .collect();
        let expected: Vec<i64> = scores.iter().copied().collect::<BTreeSet<_>>().into_iter().collect();
        prop_assert_eq!(decoded, expected);
        if count > 0 { prop_assert_eq!(start % 8, 0); }
    }

    #[test]
    fn arbitrary_attribute_values_never_crash_and_only_valid_admins_are_allowed(
        admin in arbitrary_json(),
        level in arbitrary_json(),
        extra in arbitrary_json(),
    ) {
        let mut value = manage(true, json!(0));
        value["principal"]["attributes"]["admin"] = admin.clone();
        value["principal"]["attributes"]["level"] = level.clone();
        value["principal"]["attributes"]["nick"] = extra.clone();
        value["context"]["groups"] = extra;
        let decision = policy().decide(&request(&value));
        let admin_ok = admin == json!(true);
        let level_ok = level.as_i64().is_some_and(|l| l <= 10 && !(89..=99).contains(&l));
        if decision.is_allow() {
            prop_assert!(admin_ok && level_ok, "{decision:?}");
            prop_assert!(decision.errors.is_empty());
        }
        if !decision.errors.is_empty() {
            prop_assert!(!decision.is_allow() && decision.rules.is_empty() && decision.obligations.is_empty());
        }
    }
}
