//! Rooms, room groups, update rings, tickets with their rooms, messages and history, the
//! enrolment key, settings, store counters, seen versions, idempotency keys and retired ids.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Creates the customer data tables.
#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(from: &'static str, column: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, column)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("room_group")
                    .col(string("id").primary_key())
                    .col(string_uniq("display_name"))
                    .col(text("description"))
                    .col(big_integer("create_time"))
                    .col(big_integer("update_time"))
                    .col(big_integer("revision"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("update_ring")
                    .col(string("id").primary_key())
                    .col(string_uniq("display_name"))
                    .col(text("description"))
                    .col(integer("ring_order"))
                    .col(integer("deferral_days"))
                    .col(integer("rollout_days"))
                    .col(integer("test_days"))
                    .col(boolean("built_in"))
                    .col(big_integer("create_time"))
                    .col(big_integer("update_time"))
                    .col(big_integer("revision"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("room")
                    .col(string("id").primary_key())
                    .col(string("display_name"))
                    .col(string("resource_account_upn"))
                    .col(string("room_group_id"))
                    .col(string("country_or_region"))
                    .col(string("city"))
                    .col(string("building"))
                    .col(string("floor"))
                    .col(integer("capacity"))
                    .col(integer("size"))
                    .col(integer("device_type"))
                    .col(string("model"))
                    .col(string("app_version"))
                    .col(string("os_version"))
                    .col(string("update_ring_id"))
                    .col(integer("enrolment_state"))
                    .col(boolean("suppressed"))
                    .col(big_integer_null("last_telemetry_time"))
                    .col(big_integer_null("enroll_time"))
                    .col(integer("open_ticket_count"))
                    .col(integer("unhealthy_ticket_count"))
                    .col(big_integer("create_time"))
                    .col(big_integer("update_time"))
                    .col(big_integer("revision"))
                    .foreign_key(&mut fk("room", "room_group_id", "room_group"))
                    .foreign_key(&mut fk("room", "update_ring_id", "update_ring"))
                    .take(),
            )
            .await?;
        for (name, table, columns) in [
            ("room_by_name", "room", &["display_name", "id"][..]),
            ("room_by_group", "room", &["room_group_id"][..]),
            ("room_by_ring", "room", &["update_ring_id"][..]),
        ] {
            index(manager, name, table, columns).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("ticket")
                    .col(string("id").primary_key())
                    .col(string("title"))
                    .col(text("description"))
                    .col(integer("category"))
                    .col(integer("severity"))
                    .col(boolean("high_impact"))
                    .col(integer("status"))
                    .col(blob("created_by"))
                    .col(string("created_by_partner"))
                    .col(text("close_reason"))
                    .col(integer("message_count"))
                    .col(big_integer("create_time"))
                    .col(big_integer("update_time"))
                    .col(big_integer_null("resolve_time"))
                    .col(big_integer("revision"))
                    .take(),
            )
            .await?;
        index(
            manager,
            "ticket_by_update",
            "ticket",
            &["update_time", "id"],
        )
        .await?;
        index(manager, "ticket_by_create", "ticket", &["create_time"]).await?;
        index(manager, "ticket_by_resolve", "ticket", &["resolve_time"]).await?;
        manager
            .create_table(
                Table::create()
                    .table("ticket_room")
                    .col(string("ticket_id"))
                    .col(string("room_id"))
                    .primary_key(Index::create().col("ticket_id").col("room_id"))
                    .foreign_key(&mut fk("ticket_room", "ticket_id", "ticket"))
                    .foreign_key(&mut fk("ticket_room", "room_id", "room"))
                    .take(),
            )
            .await?;
        index(manager, "ticket_room_by_room", "ticket_room", &["room_id"]).await?;
        for table in ["ticket_message", "ticket_history"] {
            let mut create = Table::create();
            create
                .table(table)
                .col(string("id").primary_key())
                .col(string("ticket_id"))
                .col(blob("actor"))
                .col(big_integer("create_time"))
                .foreign_key(&mut fk(table, "ticket_id", "ticket"));
            if table == "ticket_message" {
                create.col(text("text"));
            } else {
                create.col(string("action")).col(text("changes"));
            }
            manager.create_table(create.take()).await?;
        }
        index(
            manager,
            "ticket_message_by_ticket",
            "ticket_message",
            &["ticket_id"],
        )
        .await?;
        index(
            manager,
            "ticket_history_by_ticket",
            "ticket_history",
            &["ticket_id"],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("enrolment_key")
                    .col(integer("id").primary_key())
                    .col(integer("version"))
                    .col(blob("sealed"))
                    .col(string("key_hash"))
                    .col(big_integer("create_time"))
                    .col(blob_null("reset_by"))
                    .col(big_integer("revision"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("settings")
                    .col(integer("id").primary_key())
                    .col(string("display_name"))
                    .col(boolean("partner_mfa_required"))
                    .col(integer("audit_retention_days"))
                    .col(integer("disconnected_after_minutes"))
                    .col(big_integer("update_time"))
                    .col(big_integer("revision"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("store_stats")
                    .col(integer("id").primary_key())
                    .col(integer("room_count"))
                    .col(integer("ticket_count"))
                    .col(integer("open_ticket_count"))
                    .col(big_integer_null("newest_ticket_update_time"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("version_seen")
                    .col(integer("device_type"))
                    .col(string("kind"))
                    .col(string("version"))
                    .col(big_integer("first_seen_time"))
                    .primary_key(
                        Index::create()
                            .col("device_type")
                            .col("kind")
                            .col("version"),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("idempotency")
                    .col(string("request_id").primary_key())
                    .col(string("operation"))
                    .col(string("fingerprint"))
                    .col(string("resource"))
                    .col(big_integer("create_time"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("retired_id")
                    .col(string("kind"))
                    .col(string("id"))
                    .primary_key(Index::create().col("kind").col("id"))
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "retired_id",
            "idempotency",
            "version_seen",
            "store_stats",
            "settings",
            "enrolment_key",
            "ticket_history",
            "ticket_message",
            "ticket_room",
            "ticket",
            "room",
            "update_ring",
            "room_group",
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &'static str,
    table: &'static str,
    columns: &[&'static str],
) -> Result<(), DbErr> {
    let mut create = Index::create();
    create.name(name).table(table);
    for column in columns {
        create.col(*column);
    }
    manager.create_index(create.take()).await
}
