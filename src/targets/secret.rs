//! Per-run secrets of local mode: the PostgreSQL passwords (superuser and
//! application role) and the targets' SECRET_KEY are drawn from the kernel's
//! CSPRNG for every run, so nothing a reference app accepts is a constant
//! in the repository. Compose mode takes its own from the environment (see
//! docker-compose.yml).

use std::io::Read;

use super::TargetError;

/// `bytes` random bytes from /dev/urandom as lower-case hex (URL- and
/// SQL-literal-safe, so it can go into DATABASE_URL and `PASSWORD '...'`).
pub fn random_hex(bytes: usize) -> Result<String, TargetError> {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| TargetError::io("cannot read /dev/urandom for a per-run secret", e))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_hex_and_differ() {
        let a = random_hex(24).unwrap();
        let b = random_hex(24).unwrap();
        assert_eq!(a.len(), 48);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
    }
}
