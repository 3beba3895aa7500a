use super::*;

const WINDOW: Duration = Duration::from_secs(300);

fn fail(limiter: &SignInLimiter, account: &str, source: &str, now: Instant) {
    limiter
        .reserve_at(account, source, now)
        .expect("admitted")
        .settle_at(false, now);
}

#[test]
fn reservations_in_flight_count_against_the_limit() {
    let limiter = SignInLimiter::new(3, WINDOW);
    let now = Instant::now();
    let held: Vec<_> = (0..3)
        .map(|_| limiter.reserve_at("a@b.com", "s", now).expect("admitted"))
        .collect();
    assert!(limiter.reserve_at("a@b.com", "s", now).is_err());
    assert!(limiter.reserve_at("other@b.com", "s", now).is_ok());
    drop(held);
    assert!(
        limiter.reserve_at("a@b.com", "s", now).is_err(),
        "dropped attempts count as failures"
    );
}

#[test]
fn a_success_clears_its_source_and_frees_the_reservation() {
    let limiter = SignInLimiter::new(2, WINDOW);
    let now = Instant::now();
    fail(&limiter, "a@b.com", "s", now);
    limiter
        .reserve_at("a@b.com", "s", now)
        .expect("admitted")
        .settle_at(true, now);
    fail(&limiter, "a@b.com", "s", now);
    assert!(limiter.reserve_at("a@b.com", "s", now).is_ok());
}

#[test]
fn a_lockout_is_per_source_and_backs_off_exponentially() {
    let limiter = SignInLimiter::new(2, WINDOW);
    let start = Instant::now();
    for _ in 0..2 {
        fail(&limiter, "a@b.com", "attacker", start);
    }
    let wait = limiter
        .reserve_at("a@b.com", "attacker", start)
        .err()
        .expect("blocked");
    assert_eq!(wait, WINDOW);
    assert!(limiter.reserve_at("a@b.com", "user", start).is_ok());

    // Each further lockout in a row doubles the block, up to the cap.
    let mut now = start + WINDOW;
    let mut expected = WINDOW * 2;
    for _ in 0..10 {
        for _ in 0..2 {
            fail(&limiter, "a@b.com", "attacker", now);
        }
        let wait = limiter
            .reserve_at("a@b.com", "attacker", now)
            .err()
            .expect("blocked");
        assert_eq!(wait, expected);
        now += wait;
        expected = (expected * 2).min(WINDOW * MAX_BACKOFF_FACTOR);
    }
}

#[test]
fn guesses_spread_over_sources_meet_the_account_ceiling() {
    let limiter = SignInLimiter::new(2, WINDOW);
    let now = Instant::now();
    let ceiling = 2 * ACCOUNT_FACTOR;
    for i in 0..ceiling {
        fail(&limiter, "a@b.com", &format!("source-{i}"), now);
    }
    assert!(limiter.reserve_at("a@b.com", "fresh", now).is_err());
    assert!(limiter.reserve_at("a@b.com", "fresh", now + WINDOW).is_ok());
}

#[test]
fn failures_outside_the_window_are_forgotten() {
    let limiter = SignInLimiter::new(2, WINDOW);
    let now = Instant::now();
    fail(&limiter, "a@b.com", "s", now);
    fail(&limiter, "a@b.com", "s", now + WINDOW);
    assert!(limiter.reserve_at("a@b.com", "s", now + WINDOW).is_ok());
}
