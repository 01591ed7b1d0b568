//! The OpenAPI 3.1 document of what this build serves, generated from the wire
//! types (feature `schema`, native only): request bodies under serde's
//! Deserialize contract, answers under its Serialize contract, both through
//! `schemars`; the operations below name them. `shared/api/openapi.json` is this
//! generation, served as it is (`tests/openapi.rs` holds the two equal;
//! `scripts/openapi` writes it).

use edge_mfa_core::assess::EnrollmentState;
use edge_mfa_core::audit::EventType;
use edge_mfa_core::help::{HelpRequest, HelpState};
use edge_mfa_core::patterns;
use edge_mfa_core::policy::{Method, Policy};
use edge_mfa_core::tenant::{NewTenant, TenantCredentials, TenantPatch};
use edge_mfa_jose::JwkSet;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::admin_answers::{
    AdminKeyRotated, AuditPage, BypassGranted, DeliveriesRun, HelpRequestsPage, Misconfigured,
    Ready, SigningKeyRotated, TenantView, TenantsPage, TicketSecretRotated, UserStatusView,
    UsersPage, WebhookSecret, WebhookTested, WebhookView,
};
use crate::answers::{
    Activation, ApprovalStateAnswer, ApprovalView, Assessment, BackupCodes, Challenge,
    CodeEnrollment, Confirmed, DeviceList, FactorList, HelpRequested, Pending, PushEnrollment,
    Redeemed, Renamed, TotpEnrollment, Verified, WebauthnEnrollment, WithToken,
};
use crate::problem::Problem;
use crate::webhooks::WebhookBody;
use crate::wire::{
    ActivateBody, ActivationBody, AnswerBody, ApprovalBody, AssessBody, BypassBody, ChallengeBody,
    ConfirmBody, EnrollBody, HelpBody, RedeemBody, RenameBody, RequirementBody, ResolveBody,
    VerifyBody,
};

const SCHEMAS: &str = "#/components/schemas/";

/// The document, as `/openapi.json` serves it.
///
/// # Errors
/// A type whose request and answer schemas differ beyond `required` (one name
/// cannot stand for both), named.
pub fn document() -> Result<Value, String> {
    let mut doc = Doc::new();
    operations(&mut doc);
    doc.finish()
}

/// `value[key] = member` where `value` is an object (as every one here is).
fn insert(value: &mut Value, key: &str, member: Value) {
    if let Some(object) = value.as_object_mut() {
        object.insert(key.into(), member);
    }
}

/// `value[key]`, an object made empty where it is absent.
fn member<'v>(value: &'v mut Value, key: &str) -> Option<&'v mut Value> {
    Some(
        value
            .as_object_mut()?
            .entry(key)
            .or_insert_with(|| json!({})),
    )
}

/// Who may call an operation.
#[derive(Clone, Copy, Debug)]
enum Auth {
    Public,
    /// The end user's ticket (HS256 JWT).
    Ticket,
    /// The tenant's admin key.
    Admin,
    /// The deployment's operator key.
    Operator,
}

/// A schema made by a generator: `of::<T>` for a type's.
type SchemaOf = fn(&mut SchemaGenerator) -> Value;

fn of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Value {
    generator.subschema_for::<T>().to_value()
}

/// The users list's `state` filter: an enrollment state, or `locked`.
fn users_state(generator: &mut SchemaGenerator) -> Value {
    json!({ "anyOf": [of::<EnrollmentState>(generator), { "const": "locked" }] })
}

/// The answer to `GET /openapi.json`: this document.
fn this_document(_: &mut SchemaGenerator) -> Value {
    json!({ "type": "object", "description": "this OpenAPI 3.1 document" })
}

/// `POST enroll`: pending until `expires_at`; an email the ticket vouches for is
/// the factor at once.
const ENROLLED: &[SchemaOf] = &[
    of::<TotpEnrollment<'static>>,
    of::<PushEnrollment<'static>>,
    of::<WebauthnEnrollment<'static>>,
    of::<CodeEnrollment<'static>>,
    of::<Confirmed<'static>>,
];

/// `POST confirm`: the factor; with the user's first one, also the token.
const CONFIRMED: &[SchemaOf] = &[
    of::<Confirmed<'static>>,
    of::<WithToken<'static, Confirmed<'static>>>,
];

const DOCUMENT: &[SchemaOf] = &[this_document];

struct Doc {
    /// Request bodies: what serde reads (optional members, `null` allowed).
    requests: SchemaGenerator,
    /// Answers: what serde writes.
    answers: SchemaGenerator,
    paths: Map<String, Value>,
}

/// One operation being described; [`Op::add`] puts it in the document.
struct Op<'d> {
    doc: &'d mut Doc,
    path: String,
    method: &'static str,
    operation: Map<String, Value>,
    responses: Map<String, Value>,
    /// The status of the answer [`Op::header`] and [`Op::also_as`] add to.
    last: Option<String>,
}

impl Doc {
    fn new() -> Doc {
        let settings = SchemaSettings::draft2020_12().with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        });
        Doc {
            requests: settings.clone().for_deserialize().into_generator(),
            answers: settings.for_serialize().into_generator(),
            paths: Map::new(),
        }
    }

    /// `path` is absolute (`/health`) or under `/v1/{tenant}/` (`factors`).
    fn op(&mut self, method: &'static str, path: &str, auth: Auth, summary: &str) -> Op<'_> {
        let path = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/v1/{{tenant}}/{path}")
        };
        let mut operation = Map::new();
        operation.insert("summary".into(), summary.into());
        let security = match auth {
            Auth::Public => json!([]),
            Auth::Ticket => json!([{ "ticket": [] }]),
            Auth::Admin => json!([{ "admin": [] }]),
            Auth::Operator => json!([{ "operator": [] }]),
        };
        operation.insert("security".into(), security);
        Op {
            doc: self,
            path,
            method,
            operation,
            responses: Map::new(),
            last: None,
        }
    }

    fn finish(mut self) -> Result<Value, String> {
        // Referenced from `components.responses`.
        self.answers.subschema_for::<Problem>();
        let mut schemas = self.answers.take_definitions(true);
        for schema in schemas.values_mut() {
            as_written(schema);
        }
        for (name, request) in self.requests.take_definitions(true) {
            match schemas.get(&name) {
                Some(answer) if !same_but_required(answer, &request) => {
                    return Err(format!(
                        "{name}: its request and answer schemas differ beyond `required`"
                    ));
                }
                // The request form: it accepts every answer too.
                _ => {
                    schemas.insert(name, request);
                }
            }
        }
        let mut paths = std::mem::take(&mut self.paths);
        for (path, item) in paths.iter_mut() {
            if let Some(item) = item.as_object_mut() {
                item.insert("parameters".into(), path_parameters(path));
            }
        }
        Ok(json!({
            "openapi": "3.1.0",
            "info": {
                "title": "edge-mfa",
                "version": "1",
                "description": "Multi-factor authentication at the edge. The contract is docs/API.md; this document describes what this build serves."
            },
            "servers": [{ "url": "/" }],
            "security": [{ "ticket": [] }],
            "paths": paths,
            "components": {
                "schemas": schemas,
                "responses": error_responses(),
                "parameters": {
                    "XMfaToken": {
                        "name": "X-MFA-Token",
                        "in": "header",
                        "required": false,
                        "schema": { "type": "string" },
                        "description": "step-up: a valid mfa_token (acr mfa) of the same user: its lifetime, 300 s"
                    }
                },
                "securitySchemes": {
                    "ticket": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT (HS256, the tenant's ticket_secret)" },
                    "admin": { "type": "http", "scheme": "bearer", "description": "the tenant's admin key" },
                    "operator": { "type": "http", "scheme": "bearer", "description": "the deployment's OPERATOR_KEY" }
                }
            }
        }))
    }
}

impl Op<'_> {
    fn describe(mut self, text: &str) -> Self {
        self.operation.insert("description".into(), text.into());
        self
    }

    /// The `X-MFA-Token` header of a step-up.
    fn step_up(mut self) -> Self {
        self.parameter(json!({ "$ref": "#/components/parameters/XMfaToken" }));
        self
    }

    /// A query parameter whose schema a generator makes (a type's).
    fn query_of(self, name: &str, schema: SchemaOf, description: &str) -> Self {
        let schema = schema(&mut self.doc.requests);
        self.query(name, schema, description)
    }

    /// A query parameter; an empty value reads as absent (API.md).
    fn query(mut self, name: &str, schema: Value, description: &str) -> Self {
        let mut parameter = json!({
            "name": name,
            "in": "query",
            "required": false,
            "schema": schema,
            "allowEmptyValue": true
        });
        if !description.is_empty() {
            insert(&mut parameter, "description", description.into());
        }
        self.parameter(parameter);
        self
    }

    fn parameter(&mut self, parameter: Value) {
        let list = self
            .operation
            .entry("parameters")
            .or_insert_with(|| json!([]));
        if let Some(list) = list.as_array_mut() {
            list.push(parameter);
        }
    }

    /// A JSON body `T`.
    fn body<T: JsonSchema>(self) -> Self {
        self.request_body::<T>(true)
    }

    /// A JSON body `T`, or none: the defaults.
    fn optional_body<T: JsonSchema>(self) -> Self {
        self.request_body::<T>(false)
    }

    fn request_body<T: JsonSchema>(mut self, required: bool) -> Self {
        let schema = self.doc.requests.subschema_for::<T>().to_value();
        self.operation.insert(
            "requestBody".into(),
            json!({ "required": required, "content": { "application/json": { "schema": schema } } }),
        );
        self
    }

    /// An RFC 7396 merge patch of a `T` (`application/merge-patch+json`, or
    /// `application/json`): every member optional, `null` to reset one.
    fn merge_patch<T: JsonSchema>(mut self) -> Self {
        let whole = self.doc.requests.subschema_for::<T>().to_value();
        let mut patch = merge_patch_of(&whole, self.doc.requests.definitions());
        let description =
            "an RFC 7396 merge patch: the members to change; null puts one back to its default";
        insert(&mut patch, "description", description.into());
        let content = json!({ "schema": patch });
        self.operation.insert(
            "requestBody".into(),
            json!({ "required": true, "content": {
                "application/merge-patch+json": content.clone(),
                "application/json": content
            } }),
        );
        self
    }

    /// A JSON answer `T` with `status`.
    fn answer<T: JsonSchema>(self, status: u16, description: &str) -> Self {
        let schema = self.doc.answers.subschema_for::<T>().to_value();
        self.respond(status, description, Some(schema))
    }

    /// A JSON answer of one of `schemas`.
    fn answer_schema(self, status: u16, description: &str, schemas: &[SchemaOf]) -> Self {
        let mut all: Vec<Value> = schemas.iter().map(|f| f(&mut self.doc.answers)).collect();
        let schema = if all.len() == 1 {
            all.remove(0)
        } else {
            json!({ "oneOf": all })
        };
        self.respond(status, description, Some(schema))
    }

    /// An answer without a body.
    fn empty(self, status: u16, description: &str) -> Self {
        self.respond(status, description, None)
    }

    fn respond(mut self, status: u16, description: &str, schema: Option<Value>) -> Self {
        let mut response = json!({ "description": description });
        if let Some(schema) = schema {
            insert(
                &mut response,
                "content",
                json!({ "application/json": { "schema": schema } }),
            );
        }
        self.responses.insert(status.to_string(), response);
        self.last = Some(status.to_string());
        self
    }

    /// The last answer is also served as `media_type` (a string body).
    fn also_as(mut self, media_type: &str) -> Self {
        if let Some(content) = self.last_response().and_then(|r| member(r, "content")) {
            insert(
                content,
                media_type,
                json!({ "schema": { "type": "string" } }),
            );
        }
        self
    }

    /// A header of the last answer.
    fn header(mut self, name: &str, description: &str) -> Self {
        if let Some(headers) = self.last_response().and_then(|r| member(r, "headers")) {
            let header = json!({ "description": description, "schema": { "type": "string" } });
            insert(headers, name, header);
        }
        self
    }

    fn last_response(&mut self) -> Option<&mut Value> {
        let last = self.last.clone()?;
        self.responses.get_mut(&last)
    }

    /// Problem answers, each described once in `components.responses`.
    fn errors(mut self, statuses: &[u16]) -> Self {
        for status in statuses {
            self.responses.insert(
                status.to_string(),
                json!({ "$ref": format!("#/components/responses/{status}") }),
            );
        }
        self
    }

    fn add(mut self) {
        self.operation
            .insert("responses".into(), Value::Object(self.responses));
        let item = self.doc.paths.entry(self.path).or_insert_with(|| json!({}));
        insert(
            item,
            &self.method.to_lowercase(),
            Value::Object(self.operation),
        );
    }
}

/// The path's template parameters: tenant ids by their pattern, the others any
/// string (percent-decoded by the server).
fn path_parameters(path: &str) -> Value {
    let names = path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'));
    let parameters: Vec<Value> = names
        .map(|name| {
            let is_tenant = name == "tenant" || path == "/v1/tenants/{id}";
            let schema = if is_tenant {
                json!({ "type": "string", "pattern": patterns::TENANT_ID })
            } else {
                json!({ "type": "string" })
            };
            json!({ "name": name, "in": "path", "required": true, "schema": schema })
        })
        .collect();
    Value::Array(parameters)
}

/// An answer's schema as the server writes it: a member left out when absent is
/// never `null` (`skip_serializing_if`), and no member beyond those listed.
fn as_written(schema: &mut Value) {
    if let Some(object) = schema.as_object_mut() {
        let required: Vec<String> = object
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(|n| n.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(Value::Object(properties)) = object.get_mut("properties") {
            for (name, property) in properties.iter_mut() {
                if !required.contains(name) {
                    drop_null(property);
                }
            }
            object
                .entry("additionalProperties")
                .or_insert(Value::Bool(false));
        }
        for value in object.values_mut() {
            as_written(value);
        }
    } else if let Some(items) = schema.as_array_mut() {
        for item in items {
            as_written(item);
        }
    }
}

/// `T | null` as `T`: `type: [T, "null"]` or `anyOf: [T, {type: null}]`.
fn drop_null(schema: &mut Value) {
    if let Some(Value::Array(types)) = schema.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types.remove(0);
            insert(schema, "type", only);
        }
    }
    let single = match schema.get_mut("anyOf") {
        Some(Value::Array(options)) => {
            options.retain(|o| o != &json!({ "type": "null" }));
            (options.len() == 1).then(|| options.remove(0))
        }
        _ => None,
    };
    if let (Some(single), Some(object)) = (single, schema.as_object_mut()) {
        object.remove("anyOf");
        if let Some(Value::Object(inner)) = Some(single) {
            for (k, v) in inner {
                object.entry(k).or_insert(v);
            }
        }
    }
}

/// Whether two schemas of one name differ only in which members they require
/// (and the request form's defaults).
fn same_but_required(answer: &Value, request: &Value) -> bool {
    fn strip(value: &Value) -> Value {
        match value {
            Value::Object(object) => Value::Object(
                object
                    .iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "required" | "default"))
                    .map(|(k, v)| (k.clone(), strip(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(strip).collect()),
            other => other.clone(),
        }
    }
    strip(answer) == strip(request)
}

/// The RFC 7396 merge patch of `schema`: objects' members each optional and
/// nullable, at every depth (`$ref`s inlined from `definitions`).
fn merge_patch_of(schema: &Value, definitions: &Map<String, Value>) -> Value {
    if let Some(name) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix(SCHEMAS))
    {
        return match definitions.get(name) {
            Some(target) => merge_patch_of(target, definitions),
            None => schema.clone(),
        };
    }
    let Some(Value::Object(properties)) = schema.get("properties") else {
        return schema.clone();
    };
    let mut patch = schema.clone();
    let members: Map<String, Value> = properties
        .iter()
        .map(|(name, member)| {
            let member = merge_patch_of(member, definitions);
            (
                name.clone(),
                json!({ "anyOf": [member, { "type": "null" }] }),
            )
        })
        .collect();
    if let Some(object) = patch.as_object_mut() {
        object.remove("required");
        object.remove("default");
        object.insert("properties".into(), Value::Object(members));
    }
    patch
}

/// `components.responses`: the problems, each status described once.
fn error_responses() -> Value {
    let problem = |description: &str| {
        json!({
            "description": description,
            "content": { "application/problem+json": { "schema": { "$ref": format!("{SCHEMAS}Problem") } } }
        })
    };
    let with_header = |description: &str, header: Value| {
        let mut response = problem(description);
        insert(&mut response, "headers", header);
        response
    };
    json!({
        "400": problem("invalid_request: malformed JSON, a missing, mistyped or unknown field"),
        "401": with_header(
            "unauthorized: no, expired or forged credentials",
            json!({ "WWW-Authenticate": { "schema": { "type": "string" } } }),
        ),
        "403": problem("forbidden (wrong origin; the tenant's policy refuses the client's country, on every command that issues proof or binds a factor), or step_up_required"),
        "404": problem("not_found"),
        "405": with_header(
            "The method is not served on this path; Allow lists the methods that are (RFC 9110 §15.5.6)",
            json!({ "Allow": {
                "description": "The methods the path serves, comma-separated (HEAD wherever GET is; OPTIONS on the end-user routes, which answer CORS preflights)",
                "schema": { "type": "string" }
            } }),
        ),
        "409": problem("conflict"),
        "410": problem("expired: the enrollment or challenge expired or was used"),
        "413": problem("payload_too_large: bodies are limited to 64 KiB"),
        "422": problem("verification_failed: a wrong, malformed or replayed code"),
        "429": with_header(
            "rate_limited",
            json!({ "Retry-After": { "schema": { "type": "integer" } } }),
        ),
        "502": problem("The tenant's webhook did not take a delivery the request needs (no 2xx within 5 s); a code is void"),
        "503": problem("The deployment is misconfigured (MASTER_KEY, OPERATOR_KEY); GET /health says why"),
    })
}

/// Every operation this build serves.
#[rustfmt::skip]
fn operations(doc: &mut Doc) {
    doc.op("GET", "/health", Auth::Public, "Readiness")
        .describe("200 only when the deployment's settings parse and its MASTER_KEY opens what this deployment stored (a canary sealed on first use); otherwise 503 naming each problem, never a secret. Point the load balancer's or uptime check here.")
        .answer::<Ready>(200, "Ready")
        .answer::<Misconfigured>(503, "Not ready: the deployment is misconfigured")
        .add();
    doc.op("GET", "/openapi.json", Auth::Public, "This document")
        .answer_schema(200, "OK", DOCUMENT)
        .add();
    doc.op("POST", "/v1/tenants", Auth::Operator, "Create a tenant (operator)")
        .body::<NewTenant>()
        .answer::<TenantCredentials>(201, "Created; the keys are shown once")
        .errors(&[400, 401, 409, 413])
        .add();
    doc.op("GET", "/v1/tenants", Auth::Operator, "List tenants (operator)")
        .query("cursor", json!({"type": "string", "pattern": patterns::TENANT_ID}), "the `next` of the previous page: the last tenant id it listed")
        .query("limit", json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 100}), "")
        .answer::<TenantsPage<'static>>(200, "A page of tenants, in id order")
        .errors(&[400, 401])
        .add();
    doc.op("GET", "jwks.json", Auth::Public, "The tenant's mfa_token verification keys")
        .answer::<JwkSet>(200, "OK")
        .errors(&[404])
        .add();
    doc.op("GET", "factors", Auth::Ticket, "The user's factors")
        .answer::<FactorList<'static>>(200, "OK")
        .errors(&[401, 403, 404])
        .add();
    doc.op("DELETE", "factors/{factor_id}", Auth::Ticket, "Delete a factor")
        .describe("Needs step-up once the user has a factor: X-MFA-Token with a valid mfa_token (acr mfa) of this user: its lifetime, 300 s.")
        .step_up()
        .empty(204, "Deleted")
        .errors(&[401, 403, 404])
        .add();
    doc.op("PATCH", "factors/{factor_id}", Auth::Ticket, "Rename a factor")
        .describe("Relabels a factor. Needs step-up once the user has a factor (X-MFA-Token): a password alone must not relabel someone's authenticators.")
        .step_up()
        .body::<RenameBody>()
        .answer::<Renamed<'static>>(200, "Renamed")
        .errors(&[400, 401, 403, 404, 413])
        .add();
    doc.op("POST", "enroll", Auth::Ticket, "Start enrolling a factor (totp, webauthn, sms, email)")
        .describe("Needs step-up once the user has a factor: X-MFA-Token with a valid mfa_token (acr mfa) of this user: its lifetime, 300 s.")
        .step_up()
        .body::<EnrollBody>()
        .answer_schema(201, "Pending until expires_at (10 minutes for TOTP, 5 for WebAuthn, the code's lifetime for SMS and email); for sms and email the answer is {enrollment_id, type, delivery, expires_at}, and for an email the ticket vouches for (email_verified) the factor itself, {factor, backup_codes?}", ENROLLED)
        .errors(&[400, 401, 403, 404, 409, 413, 429, 502])
        .add();
    doc.op("POST", "enroll/{enrollment_id}/confirm", Auth::Ticket, "Confirm an enrollment with a code or a WebAuthn registration, or a push enrollment its phone activated")
        .describe("A push enrollment is confirmed with neither code nor credential: 202 until its phone has activated (ask again), then the factor.")
        .body::<ConfirmBody>()
        .answer_schema(201, "OK", CONFIRMED)
        .answer::<Pending>(202, "A push enrollment whose phone has not activated yet")
        .errors(&[400, 401, 403, 404, 410, 413, 422, 429])
        .add();
    doc.op("POST", "challenge", Auth::Ticket, "Start a second-factor check")
        .describe("For push, the approval goes to the phone (a Web Push message carrying only its id) and the answer holds the number to show; 429 while an approval is pending, and between pushes, each wait of the hour twice the one before; 502 when the push service does not take it.")
        .body::<ChallengeBody>()
        .answer::<Challenge<'static>>(201, "Valid for 5 minutes")
        .errors(&[400, 401, 403, 404, 413, 429, 502])
        .add();
    doc.op("POST", "verify", Auth::Ticket, "Verify a code or a WebAuthn assertion, or ask about a push approval; issues an mfa_token")
        .describe("A push approval is asked about with its challenge_id alone: 202 while the phone has not answered, 200 once approved, 422 once denied, reported or answered with another number, 410 once expired.")
        .body::<VerifyBody>()
        .answer::<WithToken<'static, Verified>>(200, "OK")
        .header("Set-Cookie", "with remember_device (and the policy allowing it): the device token, HttpOnly; Secure; SameSite=None; Partitioned; Path=/v1/{tenant}")
        .answer::<Pending>(202, "A push approval the phone has not answered yet")
        .errors(&[400, 401, 403, 404, 410, 413, 422, 429])
        .add();
    doc.op("POST", "backup-codes", Auth::Ticket, "Regenerate backup codes (the old set stops working)")
        .describe("Needs step-up once the user has a factor: X-MFA-Token with a valid mfa_token (acr mfa) of this user: its lifetime, 300 s.")
        .step_up()
        .answer::<BackupCodes<'static>>(201, "OK")
        .errors(&[401, 403, 404, 409])
        .add();
    doc.op("POST", "backup-codes/redeem", Auth::Ticket, "Redeem a backup code; issues an mfa_token")
        .body::<RedeemBody>()
        .answer::<WithToken<'static, Redeemed>>(200, "OK")
        .header("Set-Cookie", "with remember_device (and the policy allowing it): the device token, HttpOnly; Secure; SameSite=None; Partitioned; Path=/v1/{tenant}")
        .errors(&[400, 401, 403, 404, 413, 422, 429])
        .add();
    doc.op("GET", "admin/policy", Auth::Admin, "The tenant's policy")
        .answer::<Policy>(200, "OK")
        .header("ETag", "the tenant's configuration version, quoted (RFC 9110 §8.8.3); a higher version is a later change")
        .errors(&[401, 404])
        .add();
    doc.op("PUT", "admin/policy", Auth::Admin, "Replace the tenant's policy (omitted fields take their safe defaults)")
        .describe("Replaces the whole policy (omitted fields take their defaults). Refused with 400, changing nothing: out-of-range values, adaptive settings outside mode adaptive, and lockout settings that allow more than 100 evaluated failures per hour (max_failures × ceil(3600 / window_seconds) ≤ 100, OWASP ASVS V2.2.1). Also refused: a policy that cannot work here: allowed_methods without a method users can enroll (totp, webauthn, push; email and sms with a webhook), trusted networks shorter than /8 (IPv4) or /16 (IPv6), and country rules on a runtime that tells no country (Spin) unless adaptive.no_country_acknowledged.")
        .body::<Policy>()
        .answer::<Policy>(200, "The stored policy")
        .header("ETag", "the tenant's configuration version, quoted (RFC 9110 §8.8.3); a higher version is a later change")
        .errors(&[400, 401, 404, 413])
        .add();
    doc.op("PATCH", "admin/policy", Auth::Admin, "Change some fields of the tenant's policy")
        .describe("RFC 7396 JSON Merge Patch of the stored policy (application/merge-patch+json or application/json): only the fields sent change; null resets a field to its default. The result is checked as a PUT is; a result that is invalid or cannot work on this deployment is 400 and changes nothing.")
        .merge_patch::<Policy>()
        .answer::<Policy>(200, "The resulting policy")
        .header("ETag", "the tenant's configuration version, quoted (RFC 9110 §8.8.3); a higher version is a later change")
        .errors(&[400, 401, 404, 413])
        .add();
    doc.op("GET", "admin/users/{user}", Auth::Admin, "A user's MFA status")
        .answer::<UserStatusView<'static>>(200, "OK")
        .errors(&[400, 401, 404])
        .add();
    doc.op("DELETE", "admin/users/{user}", Auth::Admin, "Erase a user (right to erasure)")
        .describe("The record, factors, backup codes, remembered devices and pending enrollments and challenges. A user who calls again later starts afresh.")
        .empty(204, "Erased")
        .errors(&[400, 401, 404])
        .add();
    doc.op("POST", "admin/users/{user}/reset", Auth::Admin, "Remove every factor, code and pending operation of a user")
        .empty(204, "Reset")
        .errors(&[400, 401, 404])
        .add();
    doc.op("POST", "assess", Auth::Ticket, "The policy decision for this user now")
        .optional_body::<AssessBody>()
        .answer::<Assessment<'static>>(200, "OK")
        .errors(&[400, 401, 403, 404, 413])
        .add();
    doc.op("GET", "devices", Auth::Ticket, "Remembered devices (step-up)")
        .step_up()
        .answer::<DeviceList<'static>>(200, "OK")
        .errors(&[401, 403, 404])
        .add();
    doc.op("DELETE", "devices/{device_id}", Auth::Ticket, "Forget a remembered device (step-up)")
        .step_up()
        .empty(204, "Revoked")
        .errors(&[401, 403, 404])
        .add();
    doc.op("POST", "admin/users/{user}/bypass", Auth::Admin, "Temporarily disable MFA for a user")
        .body::<BypassBody>()
        .answer::<BypassGranted>(200, "OK")
        .errors(&[400, 401, 404, 413])
        .add();
    doc.op("DELETE", "admin/users/{user}/bypass", Auth::Admin, "End a user's bypass now")
        .empty(204, "Ended (also when there was none)")
        .errors(&[400, 401, 404])
        .add();
    doc.op("DELETE", "admin/users/{user}/devices", Auth::Admin, "Forget every remembered device of a user")
        .empty(204, "Cleared")
        .errors(&[400, 401, 404])
        .add();
    doc.op("POST", "admin/keys/signing/rotate", Auth::Admin, "Rotate the token-signing key")
        .describe("A new ES256 key signs every mfa_token from now on; the JWKS lists it first and keeps the earlier keys until retired (at most 3 published: 409 until the earlier ones are retired).")
        .answer::<SigningKeyRotated<'static>>(200, "OK")
        .errors(&[401, 404, 409])
        .add();
    doc.op("POST", "admin/keys/signing/retire", Auth::Admin, "Retire the earlier signing keys")
        .describe("Only the current key stays in the JWKS; tokens signed by the others stop verifying.")
        .empty(204, "Retired")
        .errors(&[401, 404])
        .add();
    doc.op("POST", "admin/keys/ticket-secret/rotate", Auth::Admin, "Rotate the ticket secret")
        .describe("A new ticket secret, shown once; tickets signed with the previous one are accepted for 24 h or until retired.")
        .answer::<TicketSecretRotated<'static>>(200, "OK")
        .errors(&[401, 404])
        .add();
    doc.op("POST", "admin/keys/ticket-secret/retire", Auth::Admin, "Retire the previous ticket secret")
        .describe("Tickets signed with the previous secret are refused from now on.")
        .empty(204, "Retired")
        .errors(&[401, 404])
        .add();
    doc.op("POST", "admin/keys/admin-key/rotate", Auth::Admin, "Rotate the admin key")
        .describe("A new admin key, shown once; the old one stops at once.")
        .answer::<AdminKeyRotated<'static>>(200, "OK")
        .errors(&[401, 404])
        .add();
    doc.op("DELETE", "/v1/tenants/{id}", Auth::Operator, "Delete a tenant and all its users' data (operator)")
        .describe("The tenant stops being served at once and its id is free again; every record of its users is erased (on Workers in the background, unreachable from a new tenant of the same id). The deletion is logged.")
        .empty(204, "Deleted")
        .errors(&[401, 404])
        .add();
    doc.op("GET", "admin/tenant", Auth::Admin, "The tenant (never its secrets)")
        .answer::<TenantView<'static>>(200, "OK")
        .errors(&[401, 404])
        .add();
    doc.op("PATCH", "admin/tenant", Auth::Admin, "Change the tenant's name, origins or rp_id")
        .describe("Origins must be https (http only for localhost) within rp_id. WebAuthn credentials are bound to rp_id: changing it while any user has one is 409 unless confirm_rp_id_change is true, and those credentials stop working.")
        .body::<TenantPatch>()
        .answer::<TenantView<'static>>(200, "The tenant after the change")
        .errors(&[400, 401, 404, 409, 413])
        .add();
    doc.op("POST", "admin/users/{user}/unlock", Auth::Admin, "Clear a user's failure counters: the lockout ends now")
        .empty(204, "Unlocked")
        .errors(&[400, 401, 404])
        .add();
    doc.op("GET", "admin/webhook", Auth::Admin, "The tenant's webhook (never its secret)")
        .answer::<WebhookView<'static>>(200, "OK")
        .errors(&[401, 404])
        .add();
    doc.op("PUT", "admin/webhook", Auth::Admin, "Set the webhook's URL and events")
        .describe("url: https; http only for localhost, 127.0.0.1 and [::1] where the deployment enables loopback webhooks; compared after parsing; no user info or fragment. events: notification types (all when absent). The first PUT generates the secret (whsec_ + base64 of 32 bytes) and shows it once; later PUTs keep it. Every delivery is signed per Standard Webhooks 1.0 (webhook-id, webhook-timestamp, webhook-signature).")
        .body::<WebhookBody>()
        .answer::<WebhookView<'static>>(200, "The webhook")
        .errors(&[400, 401, 404, 413])
        .add();
    doc.op("POST", "admin/webhook/secret", Auth::Admin, "Rotate the webhook secret")
        .describe("For 24 h every delivery carries both signatures (space-separated in webhook-signature).")
        .answer::<WebhookSecret<'static>>(200, "The new secret, shown once")
        .errors(&[401, 404])
        .add();
    doc.op("POST", "admin/webhook/test", Auth::Admin, "Send a webhook.test event now")
        .answer::<WebhookTested>(200, "The endpoint answered 2xx")
        .errors(&[401, 404, 502])
        .add();
    doc.op("POST", "challenge/{challenge_id}/resend", Auth::Ticket, "Send an SMS or email challenge's code again")
        .describe("The earlier code stops working. 429 with Retry-After when sooner than delivery.resend_after_seconds after the last send, after delivery.max_sends_per_challenge sends, or beyond the hourly limits; 502 delivery_failed when the tenant's webhook does not take it (the new code is void).")
        .answer::<Challenge<'static>>(201, "Sent")
        .errors(&[400, 401, 403, 404, 410, 429, 502])
        .add();
    doc.op("POST", "/v1/deliveries", Auth::Operator, "Deliver due notifications now (operator)")
        .describe("Attempts up to 100 notifications whose next attempt is due. On Spin, which has no timers, a cron job calls this (requests also drain a few each); on Workers each user's Durable Object alarm delivers, and this attempts none.")
        .answer::<DeliveriesRun>(200, "Attempts made")
        .errors(&[401])
        .add();
    doc.op("POST", "help", Auth::Ticket, "Ask the tenant's admins for help (one open request per user; a second call answers the open one)")
        .optional_body::<HelpBody>()
        .answer::<HelpRequested<'static>>(202, "Accepted")
        .errors(&[400, 401, 403, 404, 413, 429])
        .add();
    doc.op("POST", "approver/activation", Auth::Public, "The Approver: the registration options of a phone's credential (push enrollment)")
        .describe("Called by the Approver (/approver/) with what its activation link holds; no ticket, only from the Approver's origin. 410 for an activation link that expired, was used, or is not this one.")
        .body::<ActivationBody>()
        .answer::<Activation<'static>>(200, "The options, and the VAPID key to subscribe with")
        .errors(&[400, 403, 404, 410, 413])
        .add();
    doc.op("POST", "approver/activate", Auth::Public, "The Approver: a phone's credential and push subscription activate its enrollment")
        .describe("The credential (user verification required) is of the Approver's origin; the subscription's endpoint must be one of the push services the deployment allows. The sign-in page then confirms the enrollment.")
        .body::<ActivateBody>()
        .answer::<ApprovalStateAnswer>(201, "Activated")
        .errors(&[400, 403, 404, 409, 410, 413, 422])
        .add();
    doc.op("POST", "approver/approval", Auth::Public, "The Approver: what a pending approval is for")
        .describe("The approval id comes in the push message, which only the phone can read (RFC 8291). 410 once it is answered or expired.")
        .body::<ApprovalBody>()
        .answer::<ApprovalView<'static>>(200, "The sign-in, and how to sign the answer")
        .errors(&[400, 403, 404, 410, 413])
        .add();
    doc.op("POST", "approver/answer", Auth::Public, "The Approver: approve with the number shown, deny, or report")
        .describe("Signed by the phone's credential (user verification required) over SHA-256(\"edge-mfa approval\" 0x00 approval_id 0x00 answer), the answer being the number typed, deny or report. A number that is not the one shown is 422 and counts as a failure; so does a report (and it notifies approval.reported).")
        .body::<AnswerBody>()
        .answer::<ApprovalStateAnswer>(200, "Answered")
        .errors(&[400, 403, 404, 410, 413, 422])
        .add();
    doc.op("GET", "admin/users", Auth::Admin, "The tenant's users by MFA status")
        .query_of("state", users_state, "only users in this state now")
        .query_of("method", of::<Method>, "only users with this method")
        .query("q", json!({"type": "string", "maxLength": 256}), "only users whose id contains this (ignoring case)")
        .query("limit", json!({"type": "integer", "minimum": 1, "maximum": 500, "default": 100}), "users per page")
        .query("cursor", json!({"type": "string"}), "the `next` of the previous page (opaque)")
        .query("format", json!({"enum": ["json", "csv"], "default": "json"}), "csv: RFC 4180, one row per user")
        .answer::<UsersPage<'static>>(200, "OK")
        .also_as("text/csv")
        .header("link", "RFC 8288 link to the next page (`rel=\"next\"`), when there is one")
        .errors(&[400, 401, 404])
        .add();
    doc.op("PUT", "admin/users/{user}/requirement", Auth::Admin, "Require MFA for this user whatever the mode, with an enrollment period from now (or lift it)")
        .body::<RequirementBody>()
        .answer::<UserStatusView<'static>>(200, "The user's status")
        .errors(&[400, 401, 404, 413])
        .add();
    doc.op("GET", "admin/help-requests", Auth::Admin, "Help requests, oldest first")
        .query_of("state", of::<HelpState>, "only requests in this state (all when absent)")
        .query("limit", json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 100}), "requests per page")
        .query("cursor", json!({"type": "string"}), "the `next` of the previous page (opaque)")
        .answer::<HelpRequestsPage<'static>>(200, "OK")
        .header("link", "RFC 8288 link to the next page (`rel=\"next\"`), when there is one")
        .errors(&[400, 401, 404])
        .add();
    doc.op("POST", "admin/help-requests/{id}/resolve", Auth::Admin, "Resolve a help request; bypass and reset act on its user in the same step")
        .optional_body::<ResolveBody>()
        .answer::<HelpRequest>(200, "The request, resolved")
        .errors(&[400, 401, 404, 409, 413])
        .add();
    doc.op("GET", "admin/audit", Auth::Admin, "The audit log, oldest first")
        .query("since", json!({"type": "integer", "minimum": 0}), "events at or after (Unix seconds)")
        .query("until", json!({"type": "integer", "minimum": 0}), "events before (Unix seconds)")
        .query("user", json!({"type": "string", "maxLength": 256}), "only this user's events")
        .query_of("type", of::<EventType>, "only events of this type")
        .query("limit", json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}), "events per page")
        .query("cursor", json!({"type": "string"}), "the `next` of the previous page (opaque)")
        .query("format", json!({"enum": ["json", "ndjson"], "default": "json"}), "ndjson: one event per line")
        .answer::<AuditPage<'static>>(200, "OK")
        .also_as("application/x-ndjson")
        .header("link", "RFC 8288 link to the next page (`rel=\"next\"`), when there is one")
        .header("edge-mfa-cursor", "the same position as `cursor`, also for ndjson")
        .errors(&[400, 401, 404])
        .add();
}
