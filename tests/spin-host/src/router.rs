//! Spin's HTTP route matching: exact routes, `:name` segments, and a trailing
//! `/...` that matches the prefix and anything below it. The most specific route
//! wins: exact over wildcard, then more literal segments, then longer.

#[derive(Debug, Clone)]
pub struct Route {
    segments: Vec<Segment>,
    wildcard: bool,
    pub component: String,
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

    pub fn find(&self, path: &str) -> Option<&str> {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        self.routes
            .iter()
            .filter(|r| r.matches(&parts))
            .max_by_key(|r| r.specificity())
            .map(|r| r.component.as_str())
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
        let mut no_fallback = Router::default();
        no_fallback.add("/v1/:tenant/verify", "verify");
        assert_eq!(no_fallback.find("/v1/verify"), None);
    }
}
