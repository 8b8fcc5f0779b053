//! Finding every delimiter and newline of plain CSV lines in one pass. They are dense (one
//! every few bytes), where memchr's iterator pays a call per hit; comparing 16 bytes at once
//! and walking the bits of the match mask does not.

/// Call `found` with the position of every byte of `bytes` equal to `a` or `b`, in order,
/// until it returns false.
#[inline]
pub fn each_of_two(bytes: &[u8], a: u8, b: u8, mut found: impl FnMut(usize) -> bool) {
    let mut start = 0;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        };
        // SSE2 is part of every x86_64 CPU, so this needs no feature detection.
        // SAFETY: each load reads 16 bytes inside `bytes` (`start + 16 <= len`).
        unsafe {
            let (wanted_a, wanted_b) = (_mm_set1_epi8(a as i8), _mm_set1_epi8(b as i8));
            while start + 16 <= bytes.len() {
                let chunk = _mm_loadu_si128(bytes.as_ptr().add(start).cast::<__m128i>());
                let matches = _mm_or_si128(_mm_cmpeq_epi8(chunk, wanted_a), _mm_cmpeq_epi8(chunk, wanted_b));
                let mut mask = _mm_movemask_epi8(matches) as u32;
                while mask != 0 {
                    if !found(start + mask.trailing_zeros() as usize) {
                        return;
                    }
                    mask &= mask - 1;
                }
                start += 16;
            }
        }
    }
    for (offset, &byte) in bytes[start..].iter().enumerate() {
        if (byte == a || byte == b) && !found(start + offset) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_a_byte_loop_finds_and_stops_when_asked() {
        let text: Vec<u8> = (0..1000u32).map(|i| b"ab,c\nd,,e\n\"x"[(i * 7 % 12) as usize]).collect();
        for len in [0, 1, 15, 16, 17, 31, 32, 33, 999, 1000] {
            let bytes = &text[..len];
            let expected: Vec<usize> = (0..len).filter(|&i| bytes[i] == b',' || bytes[i] == b'\n').collect();
            let mut seen = Vec::new();
            each_of_two(bytes, b',', b'\n', |p| {
                seen.push(p);
                true
            });
            assert_eq!(seen, expected, "length {len}");
            let mut first = Vec::new();
            each_of_two(bytes, b',', b'\n', |p| {
                first.push(p);
                first.len() < 3
            });
            assert_eq!(first, expected[..expected.len().min(3)], "length {len}");
        }
    }
}
