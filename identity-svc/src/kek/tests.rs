use super::*;

fn keys(lines: &[&str]) -> KeyEncryptionKeys {
    KeyEncryptionKeys::from_text(&lines.join("\n"), "test").expect("keys")
}

#[test]
fn a_sealed_key_opens_under_its_kid_only_and_hides_the_secret() {
    let line = KeyEncryptionKeys::new_line().expect("line");
    let keks = keys(&[&line]);
    let secret = [7u8; 32];
    let sealed = keks.seal("kid-1", &secret).expect("seal");
    assert!(sealed.starts_with(SEALED_PREFIX));
    assert!(!sealed.contains(&URL_SAFE_NO_PAD.encode(secret)));
    assert_eq!(keks.open("kid-1", &sealed).expect("open"), secret);
    assert!(keks.open("kid-2", &sealed).is_err(), "the kid is bound");
    assert_ne!(
        sealed,
        keks.seal("kid-1", &secret).expect("seal"),
        "fresh nonce"
    );
    assert_eq!(keks.sealing(&sealed), Sealing::Primary);
}

#[test]
fn rotation_opens_with_the_old_key_and_seals_with_the_new_one() {
    let (old, new) = (
        KeyEncryptionKeys::new_line().expect("line"),
        KeyEncryptionKeys::new_line().expect("line"),
    );
    let before = keys(&[&old]);
    let sealed = before.seal("k", b"secret").expect("seal");
    let during = keys(&["# rotated", &new, "", &old]);
    assert_eq!(during.sealing(&sealed), Sealing::Secondary);
    assert_eq!(during.open("k", &sealed).expect("open"), b"secret");
    let resealed = during.seal("k", b"secret").expect("seal");
    assert_eq!(during.sealing(&resealed), Sealing::Primary);
    let after = keys(&[&new]);
    assert_eq!(after.open("k", &resealed).expect("open"), b"secret");
    let error = after.open("k", &sealed).expect_err("old KEK gone");
    assert!(error.to_string().contains("not configured"), "{error}");
}

#[test]
fn a_wrong_key_with_a_forged_id_does_not_open() {
    let keks = keys(&[&KeyEncryptionKeys::new_line().expect("line")]);
    let other = keys(&[&KeyEncryptionKeys::new_line().expect("line")]);
    let sealed = other.seal("k", b"secret").expect("seal");
    let (_, blob) = parse(&sealed).expect("sealed");
    let forged = format!("{SEALED_PREFIX}{}.{blob}", keks.ids()[0]);
    assert!(keks.open("k", &forged).is_err());
}

#[test]
fn plaintext_and_bad_files_are_recognised() {
    let keks = keys(&[&KeyEncryptionKeys::new_line().expect("line")]);
    assert_eq!(
        keks.sealing(&URL_SAFE_NO_PAD.encode([1u8; 32])),
        Sealing::Plaintext
    );
    for bad in ["", "# only a comment", "not base64!", "AAAA"] {
        assert!(KeyEncryptionKeys::from_text(bad, "t").is_err(), "{bad:?}");
    }
    let line = KeyEncryptionKeys::new_line().expect("line");
    assert!(KeyEncryptionKeys::from_text(&format!("{line}\n{line}"), "t").is_err());
    assert!(!format!("{keks:?}").contains(&line));
}

#[test]
fn hex_lines_are_the_same_key_as_base64_lines() {
    let bytes: Vec<u8> = (0..32u8).collect();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let from_hex = keys(&[&hex]);
    let from_base64 = keys(&[&STANDARD.encode(&bytes)]);
    assert_eq!(from_hex.ids(), from_base64.ids());
    let sealed = from_hex.seal("k", b"s").expect("seal");
    assert_eq!(from_base64.open("k", &sealed).expect("open"), b"s");
}
