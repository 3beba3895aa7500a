//! The principal cache (R2). Every directory write bumps the store's change counter
//! (`store::epoch`) in its own transaction; an entry is used only while the counter still has
//! the value read *before* the entry was computed, so the next request after any committed
//! change — on any replica — resolves afresh. Local writes also clear the cache at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use mtm_proto::mtm::identity::v1::ResolvePrincipalResponse;

/// Resolved principals by lookup key (`name:...` or `upn:...`), each with the counter value
/// it was computed at.
#[derive(Clone, Default)]
pub struct PrincipalCache {
    entries: Arc<Mutex<HashMap<String, (i64, ResolvePrincipalResponse)>>>,
    capacity: usize,
}

impl PrincipalCache {
    /// A cache of at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Arc::default(),
            capacity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, (i64, ResolvePrincipalResponse)>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached answer for `key` if it was computed at counter value `epoch`.
    pub fn get(&self, key: &str, epoch: i64) -> Option<ResolvePrincipalResponse> {
        self.lock()
            .get(key)
            .filter(|(at, _)| *at == epoch)
            .map(|(_, value)| value.clone())
    }

    /// Stores an answer computed after reading counter value `epoch`.
    pub fn store(&self, key: String, epoch: i64, value: ResolvePrincipalResponse) {
        let mut entries = self.lock();
        if entries.len() >= self.capacity {
            entries.retain(|_, (at, _)| *at == epoch);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (epoch, value));
    }

    /// Forgets everything; called after this replica's own directory writes.
    pub fn invalidate(&self) {
        self.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_counts_only_at_the_epoch_it_was_computed_at() {
        let cache = PrincipalCache::new(10);
        assert!(cache.get("name:u", 1).is_none());
        cache.store("name:u".into(), 1, ResolvePrincipalResponse::default());
        assert!(cache.get("name:u", 1).is_some());
        assert!(
            cache.get("name:u", 2).is_none(),
            "a change elsewhere bumped it"
        );
        cache.invalidate();
        assert!(cache.get("name:u", 1).is_none());
    }

    #[test]
    fn a_full_cache_drops_stale_entries_first() {
        let cache = PrincipalCache::new(2);
        cache.store("a".into(), 1, ResolvePrincipalResponse::default());
        cache.store("b".into(), 2, ResolvePrincipalResponse::default());
        cache.store("c".into(), 2, ResolvePrincipalResponse::default());
        assert!(cache.get("a", 1).is_none());
        assert!(cache.get("b", 2).is_some());
        assert!(cache.get("c", 2).is_some());
    }
}
