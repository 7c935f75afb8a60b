//! Passphrase-based key derivation: Argon2id, version 0x13 (RFC 9106).
//!
//! [`KdfParams`] carries the three cost parameters. Two bounds hold for every parameter set
//! this crate derives with or reads from a key file:
//! - a floor, the OWASP minimum for Argon2id (19 MiB, 2 passes, 1 lane), so no key is ever
//!   wrapped weakly;
//! - a ceiling, so a damaged or hostile key file cannot demand unbounded memory or time.
//!
//! The derived key-encryption key lives in [`Zeroizing`] and is wiped on drop; Argon2's working
//! memory (which holds passphrase-dependent state) is allocated here and wiped too.

use argon2::{Algorithm, Argon2, Block, ParamsBuilder, Version};
use zeroize::Zeroizing;

use crate::cipher::KEY_LEN;
use crate::error::{Error, Result};

/// Argon2id cost parameters.
///
/// [`Default`] is the OWASP minimum (`m_cost_kib` 19456 = 19 MiB, `t_cost` 2, `p_cost` 1);
/// [`KdfParams::new`] and every use in this crate reject anything weaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KdfParams {
    /// Memory cost in KiB.
    pub m_cost_kib: u32,
    /// Number of passes over the memory.
    pub t_cost: u32,
    /// Degree of parallelism (lanes).
    pub p_cost: u32,
}

impl KdfParams {
    /// Smallest accepted memory cost: 19 MiB (OWASP Password Storage Cheat Sheet).
    pub const MIN_M_COST_KIB: u32 = 19 * 1024;
    /// Smallest accepted number of passes at [`MIN_M_COST_KIB`](Self::MIN_M_COST_KIB).
    pub const MIN_T_COST: u32 = 2;
    /// Smallest accepted parallelism.
    pub const MIN_P_COST: u32 = 1;
    /// Largest accepted memory cost: 4 GiB.
    pub const MAX_M_COST_KIB: u32 = 4 * 1024 * 1024;
    /// Largest accepted number of passes.
    pub const MAX_T_COST: u32 = 64;
    /// Largest accepted parallelism.
    pub const MAX_P_COST: u32 = 64;

    /// The OWASP minimum, which is also the [`Default`].
    pub const OWASP_MINIMUM: KdfParams = KdfParams {
        m_cost_kib: Self::MIN_M_COST_KIB,
        t_cost: Self::MIN_T_COST,
        p_cost: Self::MIN_P_COST,
    };

    /// Checked constructor.
    ///
    /// # Errors
    /// [`Error::InvalidKdfParams`] if a parameter is below the OWASP minimum or above this
    /// crate's ceiling (see the associated constants).
    pub fn new(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Result<KdfParams> {
        let params = KdfParams { m_cost_kib, t_cost, p_cost };
        params.validate()?;
        Ok(params)
    }

    /// Checks the bounds that [`new`](Self::new) enforces (the fields are public, so a value
    /// built literally is checked again wherever it is used).
    ///
    /// # Errors
    /// [`Error::InvalidKdfParams`] naming the first parameter out of range.
    pub fn validate(&self) -> Result<()> {
        check("m_cost_kib", self.m_cost_kib, Self::MIN_M_COST_KIB, Self::MAX_M_COST_KIB)?;
        check("t_cost", self.t_cost, Self::MIN_T_COST, Self::MAX_T_COST)?;
        check("p_cost", self.p_cost, Self::MIN_P_COST, Self::MAX_P_COST)
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::OWASP_MINIMUM
    }
}

fn check(name: &str, value: u32, min: u32, max: u32) -> Result<()> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(Error::InvalidKdfParams {
            reason: format!("{name} = {value} is outside the accepted range {min}..={max}"),
        })
    }
}

/// Derives a 256-bit key-encryption key from `passphrase` and `salt` with Argon2id v0x13.
///
/// # Errors
/// [`Error::InvalidKdfParams`] if `params` is out of bounds; [`Error::Kdf`] if Argon2 fails
/// (for example it cannot allocate its memory).
pub(crate) fn derive_kek(
    passphrase: &[u8],
    salt: &[u8],
    params: KdfParams,
) -> Result<Zeroizing<[u8; KEY_LEN]>> {
    params.validate()?;
    let mut kek = Zeroizing::new([0u8; KEY_LEN]);
    argon2id(params, None, &[], passphrase, salt, &mut kek[..])?;
    Ok(kek)
}

/// Raw Argon2id v0x13 with optional secret and associated data, wiping its working memory.
///
/// No policy here (the RFC 9106 test vector uses 32 KiB): callers check [`KdfParams`] first.
fn argon2id(
    params: KdfParams,
    secret: Option<&[u8]>,
    associated_data: &[u8],
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<()> {
    let kdf_err = |e: argon2::Error| Error::Kdf(e.to_string());
    let data = argon2::AssociatedData::new(associated_data).map_err(kdf_err)?;
    let argon_params = ParamsBuilder::new()
        .m_cost(params.m_cost_kib)
        .t_cost(params.t_cost)
        .p_cost(params.p_cost)
        .data(data)
        .output_len(out.len())
        .build()
        .map_err(kdf_err)?;
    let block_count = argon_params.block_count();
    let argon = match secret {
        Some(secret) => {
            Argon2::new_with_secret(secret, Algorithm::Argon2id, Version::V0x13, argon_params)
                .map_err(kdf_err)?
        }
        None => Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params),
    };
    // Fallible allocation: a bad parameter set is an error, not an abort.
    let mut memory: Zeroizing<Vec<Block>> = Zeroizing::new(Vec::new());
    memory.try_reserve_exact(block_count).map_err(|_| {
        Error::Kdf(format!("cannot allocate {} KiB for Argon2id", params.m_cost_kib))
    })?;
    memory.resize(block_count, Block::default());
    argon
        .hash_password_into_with_memory(password, salt, out, memory.as_mut_slice())
        .map_err(kdf_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::hex;

    /// RFC 9106 §5.3 (Argon2id, version 0x13): memory 32 KiB, 3 passes, 4 lanes, tag length
    /// 32; password 32 × 0x01, salt 16 × 0x02, secret 8 × 0x03, associated data 12 × 0x04.
    #[test]
    fn argon2id_matches_rfc9106_section_5_3() {
        let params = KdfParams { m_cost_kib: 32, t_cost: 3, p_cost: 4 };
        let mut tag = [0u8; 32];
        argon2id(params, Some(&[0x03; 8]), &[0x04; 12], &[0x01; 32], &[0x02; 16], &mut tag)
            .expect("argon2id");
        let expected = hex("0d640df58d78766c08c037a34a8b53c9 d01ef0452d75b65eb52520e96b01e659");
        assert_eq!(tag.to_vec(), expected, "tag differs from RFC 9106 §5.3");
    }

    #[test]
    fn default_is_the_owasp_minimum() {
        let d = KdfParams::default();
        assert_eq!((d.m_cost_kib, d.t_cost, d.p_cost), (19456, 2, 1));
        assert_eq!(KdfParams::new(19456, 2, 1).expect("owasp minimum"), d);
    }

    #[test]
    fn new_rejects_weaker_than_owasp_and_beyond_the_ceiling() {
        for (m, t, p) in [
            (19455, 2, 1),
            (19456, 1, 1),
            (19456, 2, 0),
            (0, 0, 0),
            (KdfParams::MAX_M_COST_KIB + 1, 2, 1),
            (19456, KdfParams::MAX_T_COST + 1, 1),
            (19456, 2, KdfParams::MAX_P_COST + 1),
        ] {
            let err = KdfParams::new(m, t, p).unwrap_err();
            assert!(matches!(err, Error::InvalidKdfParams { .. }), "({m}, {t}, {p}): {err:?}");
        }
        assert!(KdfParams::new(64 * 1024, 3, 4).is_ok(), "stronger parameters are accepted");
    }

    #[test]
    fn derive_kek_refuses_weak_params_before_hashing() {
        let weak = KdfParams { m_cost_kib: 32, t_cost: 3, p_cost: 4 };
        let err = derive_kek(b"pw", &[0u8; 16], weak).unwrap_err();
        assert!(matches!(err, Error::InvalidKdfParams { .. }), "{err:?}");
    }
}
