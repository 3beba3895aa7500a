//! Unit tests of token signing and local verification.

use super::*;

const ISSUER: &str = "https://identity.mtm.test";
const AUDIENCE: &str = "mtm-gateway";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims() -> AccessClaims {
    let now = now();
    AccessClaims {
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        sub: "tenants/contoso/users/ana".into(),
        tid: "tenants/contoso".into(),
        upn: "ana@contoso.com".into(),
        amr: vec![AMR_PASSWORD.into()],
        exp: now + 600,
        iat: now,
        nbf: now,
        operator: false,
    }
}

fn verifier(keys: &[&KeyMaterial]) -> Verifier {
    let jwks = jwks_json(keys.iter().map(|k| (k.kid.as_str(), k.x.as_str())));
    Verifier::from_jwks_json(&jwks, ISSUER, AUDIENCE, 0).expect("verifier")
}

#[test]
fn a_well_formed_token_verifies_and_names_user_and_tenant() {
    let key = KeyMaterial::generate();
    let token = key.sign(&claims()).expect("sign");
    let verified = verifier(&[&key]).verify(&token).expect("verifies");
    assert_eq!(verified, claims_with_times(&verified));
    assert_eq!(verified.sub, "tenants/contoso/users/ana");
    assert_eq!(verified.tid, "tenants/contoso");
}

fn claims_with_times(verified: &AccessClaims) -> AccessClaims {
    AccessClaims {
        exp: verified.exp,
        iat: verified.iat,
        nbf: verified.nbf,
        ..claims()
    }
}

#[test]
fn tampered_token_is_refused() {
    let key = KeyMaterial::generate();
    let token = key.sign(&claims()).expect("sign");
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).expect("b64")).expect("json");
    payload["sub"] = "tenants/contoso/users/mallory".into();
    parts[1] = URL_SAFE_NO_PAD.encode(payload.to_string());
    let tampered = parts.join(".");
    assert_eq!(
        verifier(&[&key]).verify(&tampered),
        Err(TokenError::Signature)
    );
}

#[test]
fn expired_token_is_refused() {
    let key = KeyMaterial::generate();
    let token = key
        .sign(&AccessClaims {
            exp: now() - 3600,
            iat: now() - 7200,
            nbf: now() - 7200,
            ..claims()
        })
        .expect("sign");
    assert_eq!(verifier(&[&key]).verify(&token), Err(TokenError::Expired));
}

#[test]
fn not_yet_valid_token_is_refused() {
    let key = KeyMaterial::generate();
    let token = key
        .sign(&AccessClaims {
            nbf: now() + 3600,
            exp: now() + 7200,
            ..claims()
        })
        .expect("sign");
    assert_eq!(
        verifier(&[&key]).verify(&token),
        Err(TokenError::NotYetValid)
    );
}

#[test]
fn wrong_audience_is_refused() {
    let key = KeyMaterial::generate();
    let token = key
        .sign(&AccessClaims {
            aud: "another-api".into(),
            ..claims()
        })
        .expect("sign");
    assert_eq!(verifier(&[&key]).verify(&token), Err(TokenError::Audience));
}

#[test]
fn wrong_issuer_is_refused() {
    let key = KeyMaterial::generate();
    let token = key
        .sign(&AccessClaims {
            iss: "https://evil.example".into(),
            ..claims()
        })
        .expect("sign");
    assert_eq!(verifier(&[&key]).verify(&token), Err(TokenError::Issuer));
}

#[test]
fn alg_none_is_refused() {
    let key = KeyMaterial::generate();
    let header = serde_json::json!({ "alg": "none", "typ": "JWT", "kid": key.kid });
    let payload = serde_json::to_string(&claims()).expect("json");
    let token = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload)
    );
    assert_eq!(verifier(&[&key]).verify(&token), Err(TokenError::Algorithm));
}

#[test]
fn algorithm_other_than_the_keys_is_refused() {
    let key = KeyMaterial::generate();
    let token = key.sign(&claims()).expect("sign");
    let (_, rest) = token.split_once('.').expect("jws");
    let header = serde_json::json!({ "alg": "HS256", "typ": "JWT", "kid": key.kid });
    let forged = format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()));
    assert_eq!(
        verifier(&[&key]).verify(&forged),
        Err(TokenError::Algorithm)
    );
}

#[test]
fn unknown_kid_is_refused() {
    let signer = KeyMaterial::generate();
    let other = KeyMaterial::generate();
    let token = signer.sign(&claims()).expect("sign");
    assert_eq!(
        verifier(&[&other]).verify(&token),
        Err(TokenError::UnknownKey)
    );
}

#[test]
fn a_key_with_the_right_kid_but_other_material_is_refused() {
    let signer = KeyMaterial::generate();
    let impostor = KeyMaterial {
        kid: signer.kid.clone(),
        ..KeyMaterial::generate()
    };
    let token = impostor.sign(&claims()).expect("sign");
    assert_eq!(
        verifier(&[&signer]).verify(&token),
        Err(TokenError::Signature)
    );
}

#[test]
fn retired_keys_in_the_set_keep_verifying() {
    let old = KeyMaterial::generate();
    let new = KeyMaterial::generate();
    let old_token = old.sign(&claims()).expect("sign");
    let new_token = new.sign(&claims()).expect("sign");
    let both = verifier(&[&new, &old]);
    assert!(both.verify(&old_token).is_ok());
    assert!(both.verify(&new_token).is_ok());
}

#[test]
fn garbage_is_malformed() {
    let key = KeyMaterial::generate();
    assert_eq!(
        verifier(&[&key]).verify("not-a-token"),
        Err(TokenError::Malformed)
    );
}
