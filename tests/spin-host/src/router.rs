//! Spin's HTTP route matching: exact routes, `:name` segments, and a trailing
//! `/...` that matches the prefix and anything below it. The most specific route
//! wins: exact over wildcard, then more literal segments, then longer.

#[derive(Debug, Clone)]
pub struct Route {
    /// As written in the manifest, e.g. `/v1/:tenant/enroll/...`.
    pub raw: String,
    segments: Vec<Segment>,
    wildcard: bool,
    pub component: String,
}

/// A request path matched to a route.
#[derive(Debug, Clone, PartialEq)]
pub struct Match<'a> {
    pub component: &'a str,
    /// The route as written in the manifest.
    pub raw_route: &'a str,
    /// The route without its trailing `/...`.
    pub component_route: &'a str,
    /// What the trailing `/...` matched (`""` for exact routes), as Spin's
    /// `spin-path-info`.
    pub path_info: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    Param,
}

impl Route {
    pub fn parse(route: &str, component: &str) -> Route {
        let (path, wildcard) = match route.strip_suffix("/...") {
            Some(prefix) => (prefix, true),
            None => (route, false),
        };
        let segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                if s.starts_with(':') {
                    Segment::Param
                } else {
                    Segment::Literal(s.to_string())
                }
            })
            .collect();
        Route {
            raw: route.to_string(),
            segments,
            wildcard,
            component: component.to_string(),
        }
    }

    fn matches(&self, path: &[&str]) -> bool {
        if path.len() < self.segments.len() || (!self.wildcard && path.len() != self.segments.len())
        {
            return false;
        }
        self.segments
            .iter()
            .zip(path)
            .all(|(segment, part)| match segment {
                Segment::Literal(l) => l == part,
                Segment::Param => !part.is_empty(),
            })
    }

    fn specificity(&self) -> (bool, usize, usize) {
        let literals = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count();
        (!self.wildcard, literals, self.segments.len())
    }
}

#[derive(Debug, Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    pub fn add(&mut self, route: &str, component: &str) {
        self.routes.push(Route::parse(route, component));
    }

    /// The component for `path` (the tests' shorthand for [`Self::route`]).
    #[cfg(test)]
    pub fn find(&self, path: &str) -> Option<&str> {
        self.route(path).map(|m| m.component)
    }

    pub fn route(&self, path: &str) -> Option<Match<'_>> {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let route = self
            .routes
            .iter()
            .filter(|r| r.matches(&parts))
            .max_by_key(|r| r.specificity())?;
        let rest = parts.get(route.segments.len()..).unwrap_or_default();
        let path_info = if route.wildcard && !rest.is_empty() {
            format!("/{}", rest.join("/"))
        } else {
            String::new()
        };
        Some(Match {
            component: &route.component,
            raw_route: &route.raw,
            component_route: route.raw.strip_suffix("/...").unwrap_or(&route.raw),
            path_info,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spin_semantics() {
        let mut r = Router::default();
        r.add("/v1/tenants", "tenants");
        r.add("/v1/:tenant/enroll/...", "enroll");
        r.add("/v1/:tenant/verify", "verify");
        r.add("/health", "public");
        r.add("/...", "fallback");
        assert_eq!(r.find("/v1/tenants"), Some("tenants"));
        assert_eq!(r.find("/v1/acme/enroll"), Some("enroll"));
        assert_eq!(r.find("/v1/acme/enroll/e1/confirm"), Some("enroll"));
        assert_eq!(r.find("/v1/acme/verify"), Some("verify"));
        assert_eq!(r.find("/v1/acme/verify/x"), Some("fallback"));
        assert_eq!(r.find("/health"), Some("public"));
        assert_eq!(r.find("/"), Some("fallback"));
        let m = r.route("/v1/acme/enroll/e1/confirm").unwrap();
        assert_eq!(
            (m.raw_route, m.component_route, m.path_info.as_str()),
            (
                "/v1/:tenant/enroll/...",
                "/v1/:tenant/enroll",
                "/e1/confirm"
            )
        );
        assert_eq!(r.route("/v1/acme/verify").unwrap().path_info, "");
        let mut no_fallback = Router::default();
        no_fallback.add("/v1/:tenant/verify", "verify");
        assert_eq!(no_fallback.find("/v1/verify"), None);
    }
}
