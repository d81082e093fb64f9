//! What the authorizer answers, per response mode, in `aws_lambda_events`' response types.
//! Serialised once, by the Lambda runtime (or the caller), straight to JSON text.

use std::collections::BTreeMap;

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerResponse,
    ApiGatewayV2CustomAuthorizerIamPolicyResponse, ApiGatewayV2CustomAuthorizerSimpleResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use originsig_core::Verified;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::AuthorizerMode;

/// The authorizer's answer in the shape the configured mode needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AuthorizerResponse {
    Simple(ApiGatewayV2CustomAuthorizerSimpleResponse<DecisionContext>),
    Iam(ApiGatewayV2CustomAuthorizerIamPolicyResponse<DecisionContext>),
    Rest(ApiGatewayCustomAuthorizerResponse<RestDecisionContext>),
}

/// `context` on allow, for the backend and logs to correlate; `{}` on deny.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionContext {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skew_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cf_request_id: Option<String>,
}

impl DecisionContext {
    fn allowed(verified: &Verified, cf_request_id: Option<&str>) -> Self {
        DecisionContext {
            key_id: Some(verified.key_id.as_str().to_owned()),
            signed_at: Some(verified.signed_at.as_secs()),
            skew_seconds: Some(verified.skew_secs),
            cf_request_id: cf_request_id.map(str::to_owned),
        }
    }
}

/// The same context for REST APIs, whose context values are safest as strings: each member of
/// [`DecisionContext`], its value as a string.
pub type RestDecisionContext = BTreeMap<String, String>;

fn as_strings(context: &DecisionContext) -> RestDecisionContext {
    match serde_json::to_value(context) {
        Ok(Value::Object(members)) => members
            .into_iter()
            .map(|(name, value)| match value {
                Value::String(text) => (name, text),
                other => (name, other.to_string()),
            })
            .collect(),
        _ => RestDecisionContext::new(),
    }
}

impl AuthorizerResponse {
    /// `verified` is `Some` on allow. `resource_arn` is what an IAM policy names (`*` if the
    /// event had none).
    pub fn new(
        mode: AuthorizerMode,
        verified: Option<&Verified>,
        cf_request_id: Option<&str>,
        resource_arn: &str,
    ) -> Self {
        let context = verified
            .map(|v| DecisionContext::allowed(v, cf_request_id))
            .unwrap_or_default();
        let principal = || match verified {
            Some(v) => format!("originsig:{}", v.key_id),
            None => "originsig".to_owned(),
        };
        let allowed = verified.is_some();
        match mode {
            AuthorizerMode::Simple => {
                let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
                response.is_authorized = allowed;
                response.context = context;
                AuthorizerResponse::Simple(response)
            }
            AuthorizerMode::Iam => {
                let mut response = ApiGatewayV2CustomAuthorizerIamPolicyResponse::default();
                response.principal_id = Some(principal());
                response.policy_document = policy(allowed, resource_arn);
                response.context = context;
                AuthorizerResponse::Iam(response)
            }
            AuthorizerMode::Rest => {
                let mut response = ApiGatewayCustomAuthorizerResponse::default();
                response.principal_id = Some(principal());
                response.policy_document = policy(allowed, resource_arn);
                response.context = as_strings(&context);
                AuthorizerResponse::Rest(response)
            }
        }
    }

    /// Whether this answer lets the request in.
    pub fn is_allow(&self) -> bool {
        let allows = |policy: &ApiGatewayCustomAuthorizerPolicy| {
            policy
                .statement
                .iter()
                .all(|s| s.effect == IamPolicyEffect::Allow)
        };
        match self {
            AuthorizerResponse::Simple(r) => r.is_authorized,
            AuthorizerResponse::Iam(r) => allows(&r.policy_document),
            AuthorizerResponse::Rest(r) => allows(&r.policy_document),
        }
    }
}

fn policy(allowed: bool, resource: &str) -> ApiGatewayCustomAuthorizerPolicy {
    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".to_owned()];
    statement.effect = if allowed {
        IamPolicyEffect::Allow
    } else {
        IamPolicyEffect::Deny
    };
    statement.resource = vec![if resource.is_empty() {
        "*".to_owned()
    } else {
        resource.to_owned()
    }];
    let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
    policy.version = Some("2012-10-17".to_owned());
    policy.statement = vec![statement];
    policy
}
