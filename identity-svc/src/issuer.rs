//! Issuer identifiers in one canonical form, so that `https://Login.Example.com:443/t/` and
//! `https://login.example.com/t` name the same trusted issuer: scheme and host lower-cased,
//! the scheme's default port dropped, trailing slashes of the path dropped. The path is kept as
//! given otherwise (it is case-sensitive). Userinfo, query and fragment are refused, as OpenID
//! Connect issuers have none.

/// Why an issuer is not accepted.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct IssuerError(&'static str);

/// The canonical form of `issuer`.
pub fn normalize(issuer: &str) -> Result<String, IssuerError> {
    let issuer = issuer.trim();
    let (scheme, rest) = issuer.split_once("://").ok_or(IssuerError(
        "must be an https URL such as https://login.example.com",
    ))?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => "443",
        "http" => "80",
        _ => return Err(IssuerError("must be an https URL")),
    };
    if rest.contains(['?', '#']) {
        return Err(IssuerError("must have no query or fragment"));
    }
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    if authority.contains('@') {
        return Err(IssuerError("must have no user information"));
    }
    let authority = authority.to_ascii_lowercase();
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority.as_str(), None),
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(IssuerError("must name a host"));
    }
    if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(IssuerError("must have no spaces or control characters"));
    }
    let port = match port {
        None => None,
        Some(p) if p.is_empty() || p.trim_start_matches('0') == default_port => None,
        Some(p) => {
            let number: u16 = p.parse().map_err(|_| IssuerError("has an invalid port"))?;
            if number == 0 {
                return Err(IssuerError("has an invalid port"));
            }
            Some(number.to_string())
        }
    };
    let path = path.trim_end_matches('/');
    Ok(match port {
        Some(port) => format!("{scheme}://{host}:{port}{path}"),
        None => format!("{scheme}://{host}{path}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_issuer_are_one() {
        for spelling in [
            "https://login.example.com",
            "https://login.example.com/",
            "HTTPS://Login.Example.COM",
            "https://login.example.com:443/",
            "  https://login.example.com//  ",
        ] {
            assert_eq!(
                normalize(spelling).as_deref(),
                Ok("https://login.example.com"),
                "{spelling}"
            );
        }
        assert_eq!(
            normalize("https://Login.example.com:8443/Tenant/v2.0/").as_deref(),
            Ok("https://login.example.com:8443/Tenant/v2.0")
        );
        assert_eq!(
            normalize("http://idp.local:80/realms/x").as_deref(),
            Ok("http://idp.local/realms/x")
        );
        assert_eq!(
            normalize("https://[2001:DB8::1]:443/").as_deref(),
            Ok("https://[2001:db8::1]")
        );
    }

    #[test]
    fn what_is_not_an_issuer_is_refused() {
        for bad in [
            "",
            "login.example.com",
            "ftp://login.example.com",
            "https://",
            "https:///path",
            "https://user@login.example.com",
            "https://login.example.com/?q=1",
            "https://login.example.com/#f",
            "https://login.example.com:99999",
            "https://login.example.com:0",
            "https://login.example.com/a b",
        ] {
            assert!(normalize(bad).is_err(), "{bad:?}");
        }
    }
}
