//! What the Workers runtime supplies to the core: the time.

/// Unix seconds. (Workers advance the clock only across I/O, which is all we need.)
pub fn now() -> u64 {
    worker::Date::now().as_millis() / 1000
}
