//! Quick mode: the three engines (and every input path of each) decide
//! every benchmark request alike at small rule counts. No timing.

use ward_bench::Suite;
use ward_runtime::Runtime;

#[test]
fn engines_agree_at_small_rule_counts() -> Result<(), String> {
    let runtime = Runtime::new().map_err(|e| e.to_string())?;
    for n in [1, 10, 100] {
        let mut suite = Suite::new(&runtime, n)?;
        let agreement = suite.check_agreement();
        if !agreement.mismatches.is_empty() {
            let shown: Vec<&String> = agreement.mismatches.iter().take(20).collect();
            return Err(format!("{} disagreements at N={n}:\n{shown:#?}", agreement.mismatches.len()));
        }
        // Both outcomes occur, so agreement is not trivial.
        if agreement.allow == 0 || agreement.deny == 0 {
            return Err(format!(
                "N={n}: {} allow / {} deny: the workload does not exercise both outcomes",
                agreement.allow, agreement.deny
            ));
        }
        eprintln!(
            "N={n}: {} requests, {} allow, {} deny, {} paths agree",
            agreement.requests,
            agreement.allow,
            agreement.deny,
            agreement.paths.len()
        );
    }
    Ok(())
}
