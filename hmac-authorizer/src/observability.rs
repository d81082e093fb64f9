//! Logs and metrics. One JSON log line per decision (via tracing) and one CloudWatch Embedded
//! Metric Format line per decision, counting decisions by outcome and reason. Neither ever
//! contains key bytes, the signature header or an expected signature.

use std::io::Write as _;

use serde_json::json;

/// Installs the JSON log subscriber (stdout, one object per line, fields at the top level).
pub fn init_logging(level: &str) {
    use tracing_subscriber::util::SubscriberInitExt as _;
    // `try_init`, not `set_global_default`: it also routes `log` records into the subscriber.
    let _ = json_logs(level, std::io::stdout).try_init();
}

/// The JSON log subscriber, writing to `writer` (benchmarks measure it writing nowhere).
pub fn json_logs<W>(level: &str, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(filter)
        .with_writer(writer)
        .finish()
}

/// Where decision metrics go: a CloudWatch namespace, and the value of the `Deployment`
/// dimension that keeps two deployments in one account and region apart (the template sets it
/// to the stack name, so each stack's alarms watch only its own authorizer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsTarget {
    pub namespace: String,
    pub deployment: String,
}

/// The EMF document for one decision: metric `Decisions` (Count) with dimension sets
/// `[Deployment, Decision]` (the alarms on denies and errors) and
/// `[Deployment, Decision, Reason]` (what the denies are).
pub fn emf_line(target: &MetricsTarget, decision: &str, reason: &str, timestamp_ms: u64) -> String {
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": target.namespace,
                "Dimensions": [["Deployment", "Decision"], ["Deployment", "Decision", "Reason"]],
                "Metrics": [{"Name": "Decisions", "Unit": "Count"}],
            }],
        },
        "Deployment": target.deployment,
        "Decision": decision,
        "Reason": reason,
        "Decisions": 1,
    })
    .to_string()
}

/// Writes one EMF line to stdout (where Lambda's log agent picks it up).
pub fn emit_metric(target: &MetricsTarget, decision: &str, reason: &str, timestamp_ms: u64) {
    let mut line = emf_line(target, decision, reason, timestamp_ms);
    line.push('\n');
    let _ = std::io::stdout().lock().write_all(line.as_bytes());
}
