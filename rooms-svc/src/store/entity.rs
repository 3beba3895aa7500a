//! sea-orm entities of a customer store, one file per table; the schema itself comes only from the migrations.

pub mod enrolment_key;
pub mod idempotency;
pub mod retired_id;
pub mod room;
pub mod room_group;
pub mod settings;
pub mod store_stats;
pub mod ticket;
pub mod ticket_history;
pub mod ticket_message;
pub mod ticket_room;
pub mod update_ring;
pub mod version_seen;
