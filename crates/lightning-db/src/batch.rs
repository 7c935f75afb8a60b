//! [`WriteBatch`]: writes applied atomically by `Database::write`.

use lightning_core_storage::engine::EngineBatch;

use crate::{Keyspace, Result, keys};

/// Puts and deletes applied together, all or nothing, by [`crate::Database::write`]. Later
/// writes to the same key win.
#[derive(Debug, Clone, Default)]
pub struct WriteBatch {
    /// The writes with their stored keys, already in the form the store logs and applies (so
    /// `write` hands them over without a second pass).
    pub(crate) ops: EngineBatch,
    pub(crate) error: Option<String>,
    /// The named keyspaces written (name, id), checked to be live when the batch is applied.
    pub(crate) keyspaces: Vec<(String, keys::KeyspaceId)>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    fn note(&mut self, keyspace: &Keyspace) {
        if !self.keyspaces.iter().any(|(_, id)| *id == keyspace.id) {
            self.keyspaces.push((keyspace.name().to_string(), keyspace.id));
        }
    }

    fn push(&mut self, id: keys::KeyspaceId, key: &[u8], value: Option<&[u8]>) {
        let check: Result<()> =
            keys::check_key(key).and_then(|()| value.map_or(Ok(()), keys::check_value));
        if let Err(e) = check {
            self.error.get_or_insert(e.to_string());
        }
        let key = keys::encode(id, key);
        match value {
            Some(value) => self.ops.put(key, value),
            None => self.ops.delete(key),
        }
    }

    /// Sets `key` to `value` in the default keyspace.
    pub fn put(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> &mut Self {
        self.push(keys::DEFAULT, key.as_ref(), Some(value.as_ref()));
        self
    }

    /// Deletes `key` from the default keyspace.
    pub fn delete(&mut self, key: impl AsRef<[u8]>) -> &mut Self {
        self.push(keys::DEFAULT, key.as_ref(), None);
        self
    }

    /// Sets `key` to `value` in `keyspace`.
    pub fn put_in(
        &mut self,
        keyspace: &Keyspace,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> &mut Self {
        self.note(keyspace);
        self.push(keyspace.id, key.as_ref(), Some(value.as_ref()));
        self
    }

    /// Deletes `key` from `keyspace`.
    pub fn delete_in(&mut self, keyspace: &Keyspace, key: impl AsRef<[u8]>) -> &mut Self {
        self.note(keyspace);
        self.push(keyspace.id, key.as_ref(), None);
        self
    }

    /// Number of writes.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True if the batch holds no writes.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}
