//! The partner story, act by act, through the public API only. Each act is a function over
//! [`Cast`] (the people and what they have made so far) that plays its calls and checks what
//! the API answered; [`play`] runs them in the order of the story.

mod aggregated;
mod audit;
mod cast;
mod delegation;
mod offboarding;
mod onboarding;
mod reads;

use mtm_e2e::Suite;

pub use cast::Cast;

/// Plays the whole story against a running suite.
pub async fn play(suite: &mut Suite) {
    let channel = suite.gateway_channel().await.expect("gateway channel");
    let mut cast = Cast::assemble(channel, &suite.operator_password_file).await;
    step(
        "the operator enrols the partner",
        onboarding::operator_enrols_the_partner(&cast),
    )
    .await;
    step(
        "its Global admin adds a tenant-manager group",
        onboarding::global_admin_adds_tenant_managers(&mut cast),
    )
    .await;
    step(
        "the customers lay out their rooms",
        onboarding::customers_lay_out_rooms(&mut cast),
    )
    .await;
    step(
        "a customer admin invites the partner",
        onboarding::customer_invites_the_partner(&mut cast),
    )
    .await;
    step(
        "the tenant manager sees the invitation but no customer data",
        onboarding::tenant_manager_sees_only_the_invitation(&cast),
    )
    .await;
    step(
        "the tenant manager accepts and names a primary-admin group",
        onboarding::tenant_manager_accepts(&mut cast),
    )
    .await;
    step(
        "a primary admin lists only the rooms in scope",
        delegation::primary_admin_sees_only_the_scope(&cast),
    )
    .await;
    step(
        "a primary admin creates the Helpdesk role and assigns it",
        delegation::primary_admin_delegates_helpdesk(&mut cast),
    )
    .await;
    step(
        "a helpdesk user updates a ticket but cannot modify a room",
        delegation::helpdesk_updates_tickets_only(&cast),
    )
    .await;
    step(
        "the aggregated view answers without the unavailable customer and names it",
        aggregated::all_tickets_survive_an_unavailable_customer(&mut cast, suite),
    )
    .await;
    step(
        "the customer narrows the scope and the next partner call sees less",
        offboarding::customer_narrows_the_scope(&cast),
    )
    .await;
    step(
        "the customer reads and exports its audit log with the partner's actions",
        audit::customer_reads_and_exports_the_partner_actions(&cast),
    )
    .await;
    step(
        "the customer removes the partner and every later partner call is refused",
        offboarding::customer_removes_the_partner(&cast),
    )
    .await;
}

/// Runs one act, logging it so a failure names the act it happened in.
async fn step(name: &str, act: impl std::future::Future<Output = ()>) {
    eprintln!("story: {name}");
    act.await;
    eprintln!("story: {name}: done");
}
