//! A Spin-compatible **test host** for edge-mfa's components; not a product.
//!
//! It reads a Spin manifest (v2), compiles each component once, and serves HTTP on
//! loopback. Like Spin it gives every request a fresh instance, routes by the
//! manifest's triggers, and provides `spin:key-value`, `spin:variables` and
//! `spin:sqlite` (over real SQLite files in the state directory) to the components
//! that the manifest grants them to.
//!
//!   spin-test-host --manifest spin.toml --listen 127.0.0.1:0 --state-dir .spin
//!                  [--runtime-config-file deploy/spin/runtime-config.local.toml]
//!   (application variables from SPIN_VARIABLE_<NAME>, as with `spin up`; the
//!   runtime config's local stores and env providers, see runtime_config.rs)
//!
//! It prints `listening on http://ADDR` once ready.

mod manifest;
mod outbound;
mod router;
mod runtime_config;
mod spin_interfaces;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, anyhow};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::p3::Request as P3Request;
use wasmtime_wasi_http::p3::bindings::ServicePre;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use manifest::Manifest;
use router::Router;
use runtime_config::RuntimeConfig;
use spin_interfaces::{Shared, SpinState};

/// The store data of one request.
struct Ctx {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    spin: SpinState,
    /// The component's `allowed_outbound_hosts`.
    outbound: outbound::Outbound,
}

impl WasiView for Ctx {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for Ctx {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            hooks: &mut self.outbound,
            table: &mut self.table,
            ctx: &mut self.http,
        }
    }
}

/// A component, compiled and linked once, instantiated per request.
struct Prepared {
    pre: ServicePre<Ctx>,
    key_value_stores: Vec<String>,
    sqlite_databases: Vec<String>,
    variables: HashMap<String, String>,
    outbound: outbound::Outbound,
}

struct App {
    engine: Engine,
    router: Router,
    components: HashMap<String, Prepared>,
    shared: Arc<Shared>,
}

/// The command line: manifest, listen address, state directory, runtime config.
type Args = (PathBuf, SocketAddr, PathBuf, RuntimeConfig);

fn args() -> anyhow::Result<Args> {
    let mut manifest = PathBuf::from("spin.toml");
    let mut listen: SocketAddr = "127.0.0.1:3000".parse()?;
    let mut state = PathBuf::from(".spin");
    let mut runtime_config = RuntimeConfig::default();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--manifest" => manifest = value.into(),
            "--listen" => listen = value.parse()?,
            "--state-dir" => state = value.into(),
            "--runtime-config-file" => runtime_config = RuntimeConfig::load(value.as_ref())?,
            _ => anyhow::bail!("unknown flag {flag}"),
        }
    }
    Ok((manifest, listen, state, runtime_config))
}

fn load(
    manifest_path: &std::path::Path,
    state_dir: &std::path::Path,
    runtime_config: &RuntimeConfig,
) -> anyhow::Result<App> {
    let (manifest, dir) = Manifest::load(manifest_path)?;
    let app_variables = manifest.resolve_variables(|name| runtime_config.variable(name))?;
    let mut config = Config::new();
    config.wasm_component_model_async(true);
    let engine = Engine::new(&config)?;
    let mut linker: Linker<Ctx> = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi::p3::add_to_linker(&mut linker)?;
    wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
    spin_interfaces::add_to_linker(&mut linker, |ctx: &mut Ctx| &mut ctx.spin)?;

    let mut components = HashMap::new();
    for (id, decl) in &manifest.component {
        let path = dir.join(&decl.source);
        let component = Component::from_file(&engine, &path)
            .map_err(|e| anyhow!("component {id}: {}: {e:?}", path.display()))?;
        let pre = ServicePre::new(
            linker
                .instantiate_pre(&component)
                .map_err(|e| anyhow!("linking {id}: {e:?}"))?,
        )?;
        let variables = decl
            .variables
            .iter()
            .map(|(k, v)| Ok((k.clone(), manifest::expand(v, &app_variables)?)))
            .collect::<anyhow::Result<_>>()?;
        let mut allowed = Vec::new();
        for entry in &decl.allowed_outbound_hosts {
            let entry = manifest::expand(entry, &app_variables)?;
            if let Some(a) =
                outbound::Allowed::parse(&entry).with_context(|| format!("component {id}"))?
            {
                allowed.push(a);
            }
        }
        components.insert(
            id.clone(),
            Prepared {
                outbound: outbound::Outbound {
                    allowed: allowed.into(),
                },
                pre,
                key_value_stores: decl.key_value_stores.clone(),
                sqlite_databases: decl.sqlite_databases.clone(),
                variables,
            },
        );
    }
    let mut router = Router::default();
    for trigger in &manifest.trigger.http {
        router.add(&trigger.route, &trigger.component);
    }
    Ok(App {
        engine,
        router,
        components,
        shared: Arc::new(Shared::open(
            state_dir,
            runtime_config.sqlite_path.as_deref(),
            runtime_config.key_value_path.as_deref(),
        )?),
    })
}

fn text(status: u16, body: &str) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response
}

/// What Spin's HTTP trigger adds to every request (`crates/trigger-http/src/
/// headers.rs`, `prepare_request_headers`): after the client's own headers, in
/// the same map, *appended* — so a client that sends its own `spin-client-addr`
/// is followed by the one Spin computed, as in production.
fn append_spin_headers<B>(
    req: &mut hyper::Request<B>,
    route: &router::Match<'_>,
    client: SocketAddr,
) -> anyhow::Result<()> {
    let host = req
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let scheme = req.uri().scheme_str().unwrap_or("http").to_string();
    let values = [
        ("spin-path-info", route.path_info.clone()),
        (
            "spin-full-url",
            format!("{scheme}://{host}{path_and_query}"),
        ),
        ("spin-matched-route", route.raw_route.to_string()),
        ("spin-base-path", "/".to_string()),
        ("spin-raw-component-route", route.raw_route.to_string()),
        ("spin-component-route", route.component_route.to_string()),
        ("spin-client-addr", client.to_string()),
    ];
    for (name, value) in values {
        req.headers_mut()
            .append(name, hyper::header::HeaderValue::from_str(&value)?);
    }
    Ok(())
}

async fn serve(
    app: Arc<App>,
    mut req: hyper::Request<hyper::body::Incoming>,
    client: SocketAddr,
) -> anyhow::Result<hyper::Response<Full<Bytes>>> {
    let Some(route) = app.router.route(req.uri().path()) else {
        return Ok(text(404, "Not Found"));
    };
    append_spin_headers(&mut req, &route, client)?;
    let id = route.component;
    let prepared = app
        .components
        .get(id)
        .ok_or_else(|| anyhow!("no component {id}"))?;
    // A fresh instance (and store) for every request, as Spin gives.
    let mut store = Store::new(
        &app.engine,
        Ctx {
            table: ResourceTable::new(),
            wasi: WasiCtxBuilder::new().inherit_stderr().build(),
            http: WasiHttpCtx::new(),
            spin: SpinState {
                table: ResourceTable::new(),
                shared: app.shared.clone(),
                key_value_stores: prepared.key_value_stores.clone(),
                sqlite_databases: prepared.sqlite_databases.clone(),
                variables: prepared.variables.clone(),
            },
            outbound: prepared.outbound.clone(),
        },
    );
    let service = prepared.pre.instantiate_async(&mut store).await?;
    let (request, request_io) = P3Request::from_http(wasmtime_wasi_http::default_hooks(), req);
    let (parts, body) = store
        .run_concurrent(async |accessor| {
            let response = async {
                let response = service
                    .handle(accessor, request)
                    .await?
                    .map_err(|e| anyhow!("component error: {e:?}"))?;
                let response =
                    accessor.with(|access| response.into_http(access, async { Ok(()) }))?;
                let (parts, body) = response.into_parts();
                let bytes = body
                    .collect()
                    .await
                    .map_err(|e| anyhow!("response body: {e:?}"))?
                    .to_bytes();
                anyhow::Ok((parts, bytes))
            };
            let (out, ()) = tokio::try_join!(response, async {
                request_io.await.map_err(|e| anyhow!("request body: {e:?}"))
            })?;
            anyhow::Ok(out)
        })
        .await??;
    Ok(hyper::Response::from_parts(parts, Full::new(body)))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (manifest, listen, state, runtime_config) = args()?;
    let app = Arc::new(load(&manifest, &state, &runtime_config)?);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, client) = listener.accept().await?;
        let app = app.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let app = app.clone();
                async move {
                    // A trap or host failure is a 500, as in Spin; the host keeps serving.
                    Ok::<_, std::convert::Infallible>(serve(app, req, client).await.unwrap_or_else(
                        |e| {
                            eprintln!("spin-test-host: {e:#}");
                            text(500, "Internal Server Error")
                        },
                    ))
                }
            });
            let io = wasmtime_wasi_http::io::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spin_headers_follow_the_clients_own() {
        let mut router = Router::default();
        router.add("/v1/:tenant/assess", "assess");
        let mut req = hyper::Request::builder()
            .uri("/v1/acme/assess?x=1")
            .header("host", "localhost:3000")
            .header("spin-client-addr", "198.51.100.7:443")
            .body(())
            .unwrap();
        let route = router.route("/v1/acme/assess").unwrap();
        append_spin_headers(&mut req, &route, "127.0.0.1:50000".parse().unwrap()).unwrap();
        let addrs: Vec<&str> = req
            .headers()
            .get_all("spin-client-addr")
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(addrs, ["198.51.100.7:443", "127.0.0.1:50000"]);
        assert_eq!(
            req.headers()["spin-full-url"],
            "http://localhost:3000/v1/acme/assess?x=1"
        );
        assert_eq!(req.headers()["spin-matched-route"], "/v1/:tenant/assess");
        assert_eq!(req.headers()["spin-path-info"], "");
    }
}
