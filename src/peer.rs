//! Who is calling: a connection's peer address as the sandbox judges it. A dual-stack listener
//! (`--bind [::]`) reports IPv4 clients as IPv4-mapped IPv6 (`::ffff:127.0.0.1`); every check
//! of a peer goes through here, so such a client is the IPv4 address it is.

use std::net::IpAddr;

/// The address itself: IPv4-mapped IPv6 as IPv4, anything else unchanged.
pub fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// Whether the peer is on this machine (`127.0.0.0/8`, `::1`, or either mapped).
pub fn is_loopback(ip: IpAddr) -> bool {
    canonical(ip).is_loopback()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_ipv4_is_the_ipv4_address() {
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert!(is_loopback(mapped));
        assert_eq!(canonical(mapped), "127.0.0.1".parse::<IpAddr>().unwrap());
        assert!(is_loopback("::1".parse().unwrap()));
        assert!(!is_loopback("::ffff:10.0.0.1".parse().unwrap()));
        assert!(!is_loopback("192.168.1.2".parse().unwrap()));
    }
}
