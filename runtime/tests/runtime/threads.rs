//! Deciding from several threads.

use serde_json::json;
use ward_runtime::{DecisionModule, Evaluator, Outcome};

use crate::common::{manage, policy, request};

#[test]
fn modules_are_shareable_and_evaluators_movable() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<DecisionModule>();
    send_sync::<ward_runtime::Runtime>();
    send::<Evaluator>();
}

#[test]
fn decide_from_several_threads() {
    let module = policy();
    let expected: Vec<_> =
        (0..20).map(|level| module.decide(&request(&manage(level % 3 == 0, json!(level))))).collect();
    std::thread::scope(|scope| {
        for t in 0..4 {
            let module = module.clone();
            let expected = &expected;
            scope.spawn(move || {
                // Half the threads use the pool, half their own evaluator.
                let mut own = (t % 2 == 0).then(|| module.evaluator().unwrap());
                for round in 0..200 {
                    let level = (round + t) % 20;
                    let r = request(&manage(level % 3 == 0, json!(level)));
                    let decision = match own.as_mut() {
                        Some(evaluator) => evaluator.decide(&r),
                        None => module.decide(&r),
                    };
                    assert_eq!(decision, expected[level], "thread {t}, level {level}");
                }
            });
        }
    });
    assert!(expected.iter().any(|d| d.decision == Outcome::Allow));
    assert!(expected.iter().any(|d| !d.rules.is_empty() && d.decision == Outcome::Deny));
}
