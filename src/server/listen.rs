//! Opening listening sockets with Redis's `bind` semantics.
//!
//! Used at start and by CONFIG SET `port`/`bind`, whose handler opens the new sockets (so a failure is its
//! reply) and asks the server to install them (`commands::host::Request::Listen`).

use std::io::{self, ErrorKind};
use std::net::SocketAddr;

use mio::net::TcpListener;

use super::net::LISTENER_TOKENS;

/// Open the listening sockets for `bind` on `port` (none when `port` is 0, as Redis: no TCP).
pub fn open_listeners(bind: &[String], port: u16) -> io::Result<Vec<TcpListener>> {
    let mut listeners = vec![];
    if port == 0 {
        return Ok(listeners);
    }
    for b in bind {
        let (optional, addr) = match b.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, b.as_str()),
        };
        let ip = match addr {
            "*" => "0.0.0.0".to_string(),
            "::*" => "::".to_string(),
            a => a.to_string(),
        };
        let sock: SocketAddr = match ip.parse::<std::net::IpAddr>() {
            Ok(ip) => SocketAddr::new(ip, port),
            Err(_) => {
                if optional {
                    continue;
                }
                return Err(io::Error::new(
                    ErrorKind::InvalidInput,
                    format!("Invalid bind address '{addr}'"),
                ));
            }
        };
        match bind_listener(sock) {
            Ok(l) => listeners.push(l),
            Err(e) if optional && matches!(e.raw_os_error(), Some(libc::EADDRNOTAVAIL | libc::EAFNOSUPPORT)) => {
                continue
            }
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("Could not create server TCP listening socket {addr}:{port}: {e}"),
                ))
            }
        }
    }
    if listeners.len() > LISTENER_TOKENS {
        return Err(io::Error::new(
            ErrorKind::InvalidInput,
            "Too many bind addresses specified.",
        ));
    }
    Ok(listeners)
}

fn bind_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    use std::os::fd::FromRawFd;
    let domain = if addr.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    // SAFETY: plain socket syscalls on a descriptor we own; on error it is closed.
    unsafe {
        let fd = libc::socket(domain, libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let guard = std::net::TcpListener::from_raw_fd(fd);
        let one: libc::c_int = 1;
        let setopt = |opt| {
            libc::setsockopt(
                fd,
                if opt == libc::IPV6_V6ONLY {
                    libc::IPPROTO_IPV6
                } else {
                    libc::SOL_SOCKET
                },
                opt,
                &one as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        setopt(libc::SO_REUSEADDR);
        if addr.is_ipv6() {
            // As Redis does: an IPv6 listener never also takes IPv4 (that is `*`'s job).
            setopt(libc::IPV6_V6ONLY);
        }
        let (sa, len) = socket_addr_to_raw(&addr);
        if libc::bind(fd, &sa as *const _ as *const libc::sockaddr, len) != 0 {
            return Err(io::Error::last_os_error());
        }
        if libc::listen(fd, 511) != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(TcpListener::from_std(guard))
    }
}

fn socket_addr_to_raw(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain data; zeroed is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_in fits in sockaddr_storage.
            unsafe { std::ptr::write(&mut storage as *mut _ as *mut libc::sockaddr_in, sin) };
            (storage, std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t)
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_in6 fits in sockaddr_storage.
            unsafe { std::ptr::write(&mut storage as *mut _ as *mut libc::sockaddr_in6, sin6) };
            (storage, std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t)
        }
    }
}
