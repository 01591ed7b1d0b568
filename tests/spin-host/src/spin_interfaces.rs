//! `spin:key-value@3.0.0`, `spin:variables@3.0.0` and `spin:sqlite@3.1.0` for the
//! components, with Spin's semantics:
//! - a component may open only the stores and databases its manifest entry lists
//!   (others: `access-denied`);
//! - key-value data lives in a SQLite file, as Spin's default store does;
//! - every `open` of a database is its own SQLite connection, so `BEGIN IMMEDIATE …
//!   COMMIT` on it is a real transaction; statements run on blocking threads, as in
//!   Spin, so one request waiting for the write lock never stalls another.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use wasmtime::component::{Accessor, FutureReader, HasData, Resource, ResourceTable, StreamReader};

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "host",
        with: {
            "spin:key-value/key-value.store": super::KvStore,
            "spin:sqlite/sqlite.connection": super::SqliteConnection,
        },
    });
}

use bindings::spin::key_value::key_value;
use bindings::spin::sqlite::sqlite;
use bindings::spin::variables::variables;

/// What all requests share: where the data lives.
#[derive(Debug)]
pub struct Shared {
    /// Spin's default key-value store: one SQLite file for all stores.
    kv: Mutex<rusqlite::Connection>,
    /// The file behind the `default` SQLite database.
    sqlite_path: PathBuf,
}

impl Shared {
    /// The stores under `state_dir`, or at the runtime config's paths.
    pub fn open(
        state_dir: &std::path::Path,
        sqlite_path: Option<&std::path::Path>,
        key_value_path: Option<&std::path::Path>,
    ) -> anyhow::Result<Shared> {
        std::fs::create_dir_all(state_dir)?;
        let kv_path =
            key_value_path.map_or_else(|| state_dir.join("sqlite_key_value.db"), Into::into);
        let kv = rusqlite::Connection::open(&kv_path)?;
        kv.busy_timeout(std::time::Duration::from_secs(10))?;
        kv.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE IF NOT EXISTS spin_key_value (store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (store, key));",
        )?;
        let sqlite_path = sqlite_path.map_or_else(|| state_dir.join("sqlite_db.db"), Into::into);
        rusqlite::Connection::open(&sqlite_path)?.execute_batch("PRAGMA journal_mode = WAL;")?;
        Ok(Shared {
            kv: Mutex::new(kv),
            sqlite_path,
        })
    }
}

/// One request's view of the Spin interfaces.
pub struct SpinState {
    pub table: ResourceTable,
    pub shared: Arc<Shared>,
    pub key_value_stores: Vec<String>,
    pub sqlite_databases: Vec<String>,
    pub variables: HashMap<String, String>,
}

pub struct KvStore {
    label: String,
}

pub struct SqliteConnection {
    db: Arc<Mutex<rusqlite::Connection>>,
}

/// The `HasData` marker the generated `add_to_linker` wants.
pub struct Spin;

impl HasData for Spin {
    type Data<'a> = &'a mut SpinState;
}

pub fn add_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    get: fn(&mut T) -> &mut SpinState,
) -> wasmtime::Result<()> {
    key_value::add_to_linker::<T, Spin>(linker, get)?;
    variables::add_to_linker::<T, Spin>(linker, get)?;
    sqlite::add_to_linker::<T, Spin>(linker, get)?;
    Ok(())
}

fn kv_other(e: impl std::fmt::Display) -> key_value::Error {
    key_value::Error::Other(e.to_string())
}

fn kv_label(
    accessor: &Accessor<impl Send, Spin>,
    store: &Resource<KvStore>,
) -> Result<(String, Arc<Shared>), key_value::Error> {
    accessor.with(|mut access| {
        let state = access.get();
        let label = state.table.get(store).map_err(kv_other)?.label.clone();
        Ok((label, state.shared.clone()))
    })
}

impl key_value::Host for &mut SpinState {}

impl key_value::HostStore for &mut SpinState {
    fn drop(&mut self, store: Resource<KvStore>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}

impl<T: Send> key_value::HostStoreWithStore<T> for Spin {
    async fn open(
        accessor: &Accessor<T, Self>,
        label: String,
    ) -> Result<Resource<KvStore>, key_value::Error> {
        accessor.with(|mut access| {
            let state = access.get();
            if !state.key_value_stores.contains(&label) {
                return Err(key_value::Error::AccessDenied);
            }
            if label != "default" {
                return Err(key_value::Error::NoSuchStore);
            }
            state
                .table
                .push(KvStore { label })
                .map_err(|_| key_value::Error::StoreTableFull)
        })
    }

    async fn get(
        accessor: &Accessor<T, Self>,
        store: Resource<KvStore>,
        key: String,
    ) -> Result<Option<Vec<u8>>, key_value::Error> {
        let (label, shared) = kv_label(accessor, &store)?;
        let db = shared.kv.lock().map_err(kv_other)?;
        let mut statement = db
            .prepare_cached("SELECT value FROM spin_key_value WHERE store = ? AND key = ?")
            .map_err(kv_other)?;
        let mut rows = statement.query((label, key)).map_err(kv_other)?;
        match rows.next().map_err(kv_other)? {
            Some(row) => Ok(Some(row.get(0).map_err(kv_other)?)),
            None => Ok(None),
        }
    }

    async fn set(
        accessor: &Accessor<T, Self>,
        store: Resource<KvStore>,
        key: String,
        value: Vec<u8>,
    ) -> Result<(), key_value::Error> {
        let (label, shared) = kv_label(accessor, &store)?;
        let db = shared.kv.lock().map_err(kv_other)?;
        db.execute(
            "INSERT INTO spin_key_value (store, key, value) VALUES (?, ?, ?) ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
            (label, key, value),
        )
        .map_err(kv_other)?;
        Ok(())
    }

    async fn delete(
        accessor: &Accessor<T, Self>,
        store: Resource<KvStore>,
        key: String,
    ) -> Result<(), key_value::Error> {
        let (label, shared) = kv_label(accessor, &store)?;
        let db = shared.kv.lock().map_err(kv_other)?;
        db.execute(
            "DELETE FROM spin_key_value WHERE store = ? AND key = ?",
            (label, key),
        )
        .map_err(kv_other)?;
        Ok(())
    }

    async fn exists(
        accessor: &Accessor<T, Self>,
        store: Resource<KvStore>,
        key: String,
    ) -> Result<bool, key_value::Error> {
        Self::get(accessor, store, key).await.map(|v| v.is_some())
    }

    async fn get_keys(
        accessor: &Accessor<T, Self>,
        store: Resource<KvStore>,
    ) -> (
        StreamReader<String>,
        FutureReader<Result<(), key_value::Error>>,
    ) {
        let keys: Result<Vec<String>, key_value::Error> = (|| {
            let (label, shared) = kv_label(accessor, &store)?;
            let db = shared.kv.lock().map_err(kv_other)?;
            let mut statement = db
                .prepare_cached("SELECT key FROM spin_key_value WHERE store = ?")
                .map_err(kv_other)?;
            let keys = statement
                .query_map([label], |row| row.get(0))
                .map_err(kv_other)?;
            keys.collect::<Result<Vec<String>, _>>().map_err(kv_other)
        })();
        accessor.with(|mut access| {
            let (keys, done) = match keys {
                Ok(keys) => (keys, Ok(())),
                Err(e) => (Vec::new(), Err(e)),
            };
            // Creating a stream or future fails only if the resource table is full.
            #[allow(clippy::expect_used)]
            (
                StreamReader::new(&mut access, keys).expect("stream"),
                FutureReader::new(&mut access, async move { Ok::<_, wasmtime::Error>(done) })
                    .expect("future"),
            )
        })
    }
}

impl variables::Host for &mut SpinState {}

impl<T: Send> variables::HostWithStore<T> for Spin {
    async fn get(accessor: &Accessor<T, Self>, name: String) -> Result<String, variables::Error> {
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(variables::Error::InvalidName(name));
        }
        accessor.with(|mut access| {
            access
                .get()
                .variables
                .get(&name)
                .cloned()
                .ok_or(variables::Error::Undefined(format!(
                    "no variable {name:?} for this component"
                )))
        })
    }
}

fn sql_io(e: impl std::fmt::Display) -> sqlite::Error {
    sqlite::Error::Io(e.to_string())
}

type Rows = (Vec<String>, Vec<sqlite::RowResult>);

fn run_statement(
    db: &rusqlite::Connection,
    statement: &str,
    parameters: Vec<sqlite::Value>,
) -> Result<Rows, sqlite::Error> {
    use rusqlite::types::{Value as V, ValueRef};
    let mut prepared = db.prepare(statement).map_err(sql_io)?;
    let columns: Vec<String> = prepared
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let params = parameters.into_iter().map(|v| match v {
        sqlite::Value::Integer(i) => V::Integer(i),
        sqlite::Value::Real(r) => V::Real(r),
        sqlite::Value::Text(t) => V::Text(t),
        sqlite::Value::Blob(b) => V::Blob(b),
        sqlite::Value::Null => V::Null,
    });
    let n = columns.len();
    let rows = prepared
        .query_map(rusqlite::params_from_iter(params), |row| {
            let mut values = Vec::with_capacity(n);
            for i in 0..n {
                values.push(match row.get_ref(i)? {
                    ValueRef::Null => sqlite::Value::Null,
                    ValueRef::Integer(i) => sqlite::Value::Integer(i),
                    ValueRef::Real(r) => sqlite::Value::Real(r),
                    ValueRef::Text(t) => {
                        sqlite::Value::Text(String::from_utf8_lossy(t).into_owned())
                    }
                    ValueRef::Blob(b) => sqlite::Value::Blob(b.to_vec()),
                });
            }
            Ok(sqlite::RowResult { values })
        })
        .map_err(sql_io)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sql_io)?;
    Ok((columns, rows))
}

impl SpinState {
    fn open_database(
        &mut self,
        database: &str,
    ) -> Result<Resource<SqliteConnection>, sqlite::Error> {
        if !self.sqlite_databases.iter().any(|d| d == database) {
            return Err(sqlite::Error::AccessDenied);
        }
        if database != "default" {
            return Err(sqlite::Error::NoSuchDatabase);
        }
        let db = rusqlite::Connection::open(&self.shared.sqlite_path).map_err(sql_io)?;
        // As Spin: wait for a lock held by another connection instead of failing.
        db.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(sql_io)?;
        self.table
            .push(SqliteConnection {
                db: Arc::new(Mutex::new(db)),
            })
            .map_err(sql_io)
    }

    fn connection(
        &self,
        conn: &Resource<SqliteConnection>,
    ) -> Result<Arc<Mutex<rusqlite::Connection>>, sqlite::Error> {
        self.table
            .get(conn)
            .map(|c| c.db.clone())
            .map_err(|_| sqlite::Error::InvalidConnection)
    }
}

fn with_db<R>(
    db: &Arc<Mutex<rusqlite::Connection>>,
    f: impl FnOnce(&rusqlite::Connection) -> R,
) -> Result<R, sqlite::Error> {
    let guard = db.lock().map_err(sql_io)?;
    Ok(f(&guard))
}

impl sqlite::Host for &mut SpinState {}

impl sqlite::HostConnection for &mut SpinState {
    fn open(&mut self, database: String) -> Result<Resource<SqliteConnection>, sqlite::Error> {
        self.open_database(&database)
    }

    fn execute(
        &mut self,
        conn: Resource<SqliteConnection>,
        statement: String,
        parameters: Vec<sqlite::Value>,
    ) -> Result<sqlite::QueryResult, sqlite::Error> {
        let db = self.connection(&conn)?;
        let (columns, rows) = with_db(&db, |db| run_statement(db, &statement, parameters))??;
        Ok(sqlite::QueryResult { columns, rows })
    }

    fn last_insert_rowid(&mut self, conn: Resource<SqliteConnection>) -> i64 {
        self.connection(&conn)
            .and_then(|db| with_db(&db, |db| db.last_insert_rowid()))
            .unwrap_or(0)
    }

    fn changes(&mut self, conn: Resource<SqliteConnection>) -> u64 {
        self.connection(&conn)
            .and_then(|db| with_db(&db, |db| db.changes()))
            .unwrap_or(0)
    }

    fn drop(&mut self, conn: Resource<SqliteConnection>) -> wasmtime::Result<()> {
        // Dropping the last handle closes the connection; SQLite rolls back an open transaction.
        self.table.delete(conn)?;
        Ok(())
    }
}

impl<T: Send> sqlite::HostConnectionWithStore<T> for Spin {
    async fn open_async(
        accessor: &Accessor<T, Self>,
        database: String,
    ) -> Result<Resource<SqliteConnection>, sqlite::Error> {
        accessor.with(|mut access| access.get().open_database(&database))
    }

    async fn execute_async(
        accessor: &Accessor<T, Self>,
        conn: Resource<SqliteConnection>,
        statement: String,
        parameters: Vec<sqlite::Value>,
    ) -> Result<
        (
            Vec<String>,
            StreamReader<sqlite::RowResult>,
            FutureReader<Result<(), sqlite::Error>>,
        ),
        sqlite::Error,
    > {
        let db = accessor.with(|mut access| access.get().connection(&conn))?;
        // Off the async threads: a statement may wait for another connection's lock.
        let (columns, rows) = tokio::task::spawn_blocking(move || {
            with_db(&db, |db| run_statement(db, &statement, parameters))
        })
        .await
        .map_err(sql_io)???;
        accessor.with(|mut access| {
            let rows = StreamReader::new(&mut access, rows).map_err(sql_io)?;
            let done = FutureReader::new(&mut access, async {
                Ok::<_, wasmtime::Error>(Ok::<(), sqlite::Error>(()))
            })
            .map_err(sql_io)?;
            Ok((columns, rows, done))
        })
    }

    async fn last_insert_rowid_async(
        accessor: &Accessor<T, Self>,
        conn: Resource<SqliteConnection>,
    ) -> i64 {
        accessor
            .with(|mut access| sqlite::HostConnection::last_insert_rowid(&mut access.get(), conn))
    }

    async fn changes_async(accessor: &Accessor<T, Self>, conn: Resource<SqliteConnection>) -> u64 {
        accessor.with(|mut access| sqlite::HostConnection::changes(&mut access.get(), conn))
    }
}
