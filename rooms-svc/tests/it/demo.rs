//! The demo data generator loads realistic data through the API, deterministically.

use mtm_proto::mtm::rooms::v1::*;
use rooms_svc::demo::{DemoOptions, generate, load};

use crate::harness::{Backend, Suite};

#[tokio::test]
async fn demo_data_loads_through_the_api_for_several_customers() {
    let suite = Suite::start(Backend::Sqlite).await;
    let options = DemoOptions {
        seed: 42,
        customers: 3,
        rooms_per_customer: 25,
        incidents_per_customer: 6,
    };
    let data = generate(options);
    assert_eq!(data, generate(options), "deterministic");
    for customer in &data {
        let summary = load(suite.channel.clone(), suite.provisioner.clone(), customer)
            .await
            .expect("load");
        assert_eq!(summary.rooms, 25);
        let info = suite
            .internal()
            .get_store_info(GetStoreInfoRequest {
                customer: format!("customers/{}", customer.id),
            })
            .await
            .expect("info")
            .into_inner()
            .store
            .expect("store");
        assert_eq!(info.room_count, 25);
        assert_eq!(info.ticket_count as usize, summary.tickets);
        let closed = customer
            .incidents
            .iter()
            .filter(|i| i.closed_with.is_some())
            .count();
        assert_eq!(info.open_ticket_count as usize, summary.tickets - closed);
    }
    suite.finish(&[]).await;
}
