//! Merging the backends' audit lists into one list order (`create_time` descending, then record
//! id descending), and the merged list's position: where each backend stands.

use std::collections::VecDeque;

use mtm_plumbing::audit::query::Position;
use mtm_plumbing::status::FieldError;
use mtm_proto::mtm::audit::v1::{AuditPosition, AuditRecord};

/// Where one backend's list stands in a merged walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceState {
    /// Nothing taken from it yet: its list starts at the top (or at the walk's start).
    Fresh,
    /// Resume strictly after this record.
    After {
        /// Microseconds since the epoch.
        time_us: i64,
        /// The record's resource name.
        record: String,
    },
    /// Everything it holds has been taken.
    Exhausted,
}

impl SourceState {
    /// The state after taking `record`.
    fn after(record: &AuditRecord) -> Self {
        let time_us = Position::of(record).map_or(i64::MIN, |p| p.time_us);
        Self::After {
            time_us,
            record: record.name.clone(),
        }
    }

    /// Where the backend's next page starts: `None` for the top of its list.
    pub fn start_after(&self) -> Option<AuditPosition> {
        match self {
            Self::After { time_us, record } => Some(AuditPosition {
                create_time: Some(prost_types::Timestamp {
                    seconds: time_us.div_euclid(1_000_000),
                    nanos: i32::try_from(time_us.rem_euclid(1_000_000) * 1_000).unwrap_or(0),
                }),
                record: record.clone(),
            }),
            Self::Fresh | Self::Exhausted => None,
        }
    }
}

/// The position of a merged walk: one state per backend, in the backends' fixed order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// One entry per backend.
    pub sources: Vec<SourceState>,
}

impl Cursor {
    /// The top of the merged list over `count` backends.
    pub fn fresh(count: usize) -> Self {
        Self {
            sources: vec![SourceState::Fresh; count],
        }
    }

    /// Every backend resumed strictly after `position`, a place in the list order that holds
    /// for each backend's list as for the merged one.
    pub fn after(count: usize, position: &AuditPosition) -> Result<Self, FieldError> {
        let invalid = || FieldError::new("start_after", "needs a time and a record name");
        let parsed = Position::from_proto(position).ok_or_else(invalid)?;
        let state = SourceState::After {
            time_us: parsed.time_us,
            record: position.record.clone(),
        };
        Ok(Self {
            sources: vec![state; count],
        })
    }

    /// Whether every backend has been read to its end.
    pub fn is_done(&self) -> bool {
        self.sources.iter().all(|s| *s == SourceState::Exhausted)
    }

    /// The cursor as the position carried in a page token.
    pub fn encode(&self) -> String {
        self.sources
            .iter()
            .map(|state| match state {
                SourceState::Fresh => "-".to_owned(),
                SourceState::Exhausted => ".".to_owned(),
                SourceState::After { time_us, record } => format!("{time_us},{record}"),
            })
            .collect::<Vec<_>>()
            .join(";")
    }

    /// The cursor a page token's position holds, for `count` backends.
    pub fn decode(count: usize, text: &str) -> Result<Self, FieldError> {
        let invalid = || FieldError::new("page_token", "not a token of this list");
        let sources = text
            .split(';')
            .map(|part| match part {
                "-" => Some(SourceState::Fresh),
                "." => Some(SourceState::Exhausted),
                _ => {
                    let (time, record) = part.split_once(',')?;
                    record.contains("/auditRecords/").then_some(())?;
                    Some(SourceState::After {
                        time_us: time.parse().ok()?,
                        record: record.to_owned(),
                    })
                }
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(invalid)?;
        if sources.len() != count {
            return Err(invalid());
        }
        Ok(Self { sources })
    }
}

/// What one backend answered for a merged page: its next records in list order, and whether
/// it holds more after them.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// Records not yet taken.
    pub records: VecDeque<AuditRecord>,
    /// Whether the backend has records after these.
    pub more: bool,
}

/// The list-order key of a record: larger comes first.
fn key(record: &AuditRecord) -> (i64, String) {
    Position::of(record).map_or((i64::MIN, String::new()), |p| (p.time_us, p.id))
}

/// Takes up to `limit` records from `runs` (one per backend, `None` for a backend not asked)
/// in list order, advancing `cursor` past each record taken. A backend whose run is used up
/// while it holds more stops the merge there, since its next record is unknown.
pub fn take(cursor: &mut Cursor, runs: &mut [Option<Run>], limit: usize) -> Vec<AuditRecord> {
    let mut out = Vec::with_capacity(limit);
    while out.len() < limit {
        let blocked = runs
            .iter()
            .flatten()
            .any(|run| run.records.is_empty() && run.more);
        if blocked {
            break;
        }
        let next = runs
            .iter()
            .enumerate()
            .filter_map(|(i, run)| Some((i, key(run.as_ref()?.records.front()?))))
            .max_by(|a, b| a.1.cmp(&b.1))
            .map(|(i, _)| i);
        let Some(record) = next.and_then(|i| {
            let record = runs[i].as_mut()?.records.pop_front()?;
            cursor.sources[i] = SourceState::after(&record);
            Some(record)
        }) else {
            break;
        };
        out.push(record);
    }
    for (state, run) in cursor.sources.iter_mut().zip(runs.iter()) {
        if let Some(run) = run
            && run.records.is_empty()
            && !run.more
        {
            *state = SourceState::Exhausted;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(backend: &str, time_us: i64, id: &str) -> AuditRecord {
        AuditRecord {
            name: format!("customers/c1/auditRecords/{id}"),
            create_time: Some(prost_types::Timestamp {
                seconds: time_us / 1_000_000,
                nanos: i32::try_from((time_us % 1_000_000) * 1_000).expect("nanos"),
            }),
            source: backend.to_owned(),
            ..Default::default()
        }
    }

    fn run(records: Vec<AuditRecord>, more: bool) -> Option<Run> {
        Some(Run {
            records: records.into(),
            more,
        })
    }

    fn ids(records: &[AuditRecord]) -> Vec<&str> {
        records
            .iter()
            .map(|r| r.name.rsplit('/').next().unwrap_or_default())
            .collect()
    }

    #[test]
    fn records_interleave_newest_first_and_ties_fall_to_the_larger_id() {
        let mut cursor = Cursor::fresh(3);
        let mut runs = vec![
            run(vec![record("a", 50, "a50"), record("a", 10, "a10")], false),
            run(vec![record("b", 40, "b40"), record("b", 10, "b10")], false),
            run(vec![record("c", 60, "c60")], false),
        ];
        let page = take(&mut cursor, &mut runs, 10);
        assert_eq!(ids(&page), ["c60", "a50", "b40", "b10", "a10"]);
        assert!(cursor.is_done());
    }

    #[test]
    fn a_full_page_leaves_each_backend_after_its_last_record_taken() {
        let mut cursor = Cursor::fresh(2);
        let mut runs = vec![
            run(vec![record("a", 50, "a50"), record("a", 30, "a30")], true),
            run(vec![record("b", 40, "b40"), record("b", 20, "b20")], false),
        ];
        let page = take(&mut cursor, &mut runs, 2);
        assert_eq!(ids(&page), ["a50", "b40"]);
        assert_eq!(cursor.sources[0], SourceState::after(&page[0]));
        assert_eq!(cursor.sources[1], SourceState::after(&page[1]));
        assert!(!cursor.is_done());
    }

    #[test]
    fn a_used_up_backend_with_more_stops_the_merge() {
        let mut cursor = Cursor::fresh(2);
        let mut runs = vec![
            run(vec![record("a", 50, "a50")], true),
            run(vec![record("b", 10, "b10")], false),
        ];
        let page = take(&mut cursor, &mut runs, 5);
        assert_eq!(ids(&page), ["a50"]);
        assert_eq!(cursor.sources[1], SourceState::Fresh);
    }

    #[test]
    fn backends_not_asked_keep_their_state() {
        let mut cursor = Cursor {
            sources: vec![SourceState::Exhausted, SourceState::Fresh],
        };
        let mut runs = vec![None, run(Vec::new(), false)];
        assert!(take(&mut cursor, &mut runs, 5).is_empty());
        assert!(cursor.is_done());
    }

    #[test]
    fn cursors_survive_their_token_form() {
        let cursor = Cursor {
            sources: vec![
                SourceState::Fresh,
                SourceState::Exhausted,
                SourceState::after(&record("a", 1_767_225_600_123_456, "0199")),
            ],
        };
        assert_eq!(Cursor::decode(3, &cursor.encode()), Ok(cursor.clone()));
        assert!(Cursor::decode(2, &cursor.encode()).is_err());
        assert!(Cursor::decode(1, "12,customers/c1/rooms/r1").is_err());
        assert!(Cursor::decode(1, "x,customers/c1/auditRecords/r1").is_err());
    }

    #[test]
    fn start_after_round_trips_the_time_to_the_microsecond() {
        let taken = record("a", 1_767_225_600_123_456, "0199");
        let position = SourceState::after(&taken).start_after().expect("position");
        assert_eq!(position.create_time, taken.create_time);
        assert_eq!(position.record, taken.name);
    }
}
