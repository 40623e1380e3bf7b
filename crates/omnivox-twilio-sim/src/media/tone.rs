//! The sound of a simulated recording: a two-party "conversation" of tones, derived from the
//! recording SID alone, so the same SID always yields the same samples (stable checksums).
//!
//! Speakers take turns; in a dual-channel recording each speaker has a channel and a pitch,
//! and talks in syllables of varying loudness, so a waveform view shows words and pauses.
//! Everything is integer phase arithmetic plus a polynomial sine made of IEEE additions and
//! multiplications only, which round identically everywhere (no `libm` differences).

use sha2::{Digest as _, Sha256};

pub(crate) const SAMPLE_RATE: u32 = 8000;
/// One syllable: a quarter second.
pub(crate) const SYLLABLE_SAMPLES: u64 = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Voice {
    /// Fundamental of each speaker in Hz (speaker 0 lower than speaker 1).
    pitch_hz: [u32; 2],
    /// Loudness of the syllables of a turn, in 1/16ths; 0 is a pause.
    loudness: [u8; 8],
    /// Syllables per turn.
    turn_syllables: u64,
    first_speaker: usize,
}

impl Voice {
    pub fn from_sid(sid: &str) -> Self {
        let h = Sha256::digest(sid.as_bytes());
        let mut loudness = [0u8; 8];
        for (i, level) in loudness.iter_mut().enumerate() {
            *level = 6 + h[4 + i] % 11;
        }
        // A breath at the end of each turn.
        loudness[7] = 0;
        Self {
            pitch_hz: [170 + u32::from(h[0]) % 100, 300 + u32::from(h[1]) % 150],
            loudness,
            turn_syllables: 8 + u64::from(h[2]) % 9,
            first_speaker: usize::from(h[3] & 1),
        }
    }

    pub fn pitch_hz(&self, speaker: usize) -> u32 {
        self.pitch_hz[speaker & 1]
    }

    /// Who talks at sample `n`, and how loud (0.0–1.0).
    pub fn envelope(&self, n: u64) -> (usize, f64) {
        let syllable = n / SYLLABLE_SAMPLES;
        let turn = syllable / self.turn_syllables;
        let speaker = (usize::from(turn % 2 == 1) + self.first_speaker) % 2;
        let level = f64::from(self.loudness[(syllable % 8) as usize]) / 16.0;
        // A half sine over the syllable starts and ends at zero, so turns never click.
        let x = (n % SYLLABLE_SAMPLES) as f64 / SYLLABLE_SAMPLES as f64;
        let shape = sine(turn_fraction(x / 2.0));
        (speaker, level * shape)
    }

    /// Sample `n` of `channel` (of `channels`) as 16-bit PCM.
    pub fn sample(&self, n: u64, channel: usize, channels: usize) -> i16 {
        let (speaker, level) = self.envelope(n);
        if channels > 1 && speaker != channel {
            return 0;
        }
        let step = phase_step(self.pitch_hz(speaker));
        let phase = (n.wrapping_mul(step)) as u32;
        let tone = 0.8 * sine(phase) + 0.2 * sine(phase.wrapping_mul(2));
        let value = 0.5 * level * tone * f64::from(i16::MAX);
        // `as` saturates; the value is within range anyway.
        value.round() as i16
    }
}

/// Phase advance per sample for `hz`, as a fraction of a turn in 1/2^32.
fn phase_step(hz: u32) -> u64 {
    (u64::from(hz) << 32) / u64::from(SAMPLE_RATE)
}

/// `x` turns (0.0–1.0) as a 32-bit phase.
fn turn_fraction(x: f64) -> u32 {
    (x * 4_294_967_296.0) as u32
}

/// sin(2π · phase / 2^32) from a Taylor polynomial on [-π/2, π/2] (error below 1e-7, far
/// under one 16-bit step).
pub(crate) fn sine(phase: u32) -> f64 {
    use std::f64::consts::PI;
    // Fold onto the quarter turns around 0 where the polynomial is accurate.
    let (quadrant, rest) = (phase >> 30, phase & 0x3FFF_FFFF);
    let t = f64::from(rest) / 1_073_741_824.0 * (PI / 2.0);
    let x = match quadrant {
        0 => t,
        1 => PI / 2.0 - t,
        2 => -t,
        _ => t - PI / 2.0,
    };
    let x2 = x * x;
    x * (1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0 * (1.0 - x2 / 110.0)))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polynomial_sine_is_accurate() {
        for i in 0..10_000u64 {
            let phase = (i * 429_497) as u32;
            let exact = (f64::from(phase) / 4_294_967_296.0 * std::f64::consts::TAU).sin();
            assert!((sine(phase) - exact).abs() < 1e-7, "phase {phase}");
        }
    }

    #[test]
    fn the_same_sid_sounds_the_same_and_another_differs() {
        let a = Voice::from_sid("RE00000000000000000000000000000001");
        let b = Voice::from_sid("RE00000000000000000000000000000002");
        assert_eq!(a, Voice::from_sid("RE00000000000000000000000000000001"));
        assert_ne!(a, b);
        let samples = |v: &Voice| (0..16_000).map(|n| v.sample(n, 0, 1)).collect::<Vec<_>>();
        assert_ne!(samples(&a), samples(&b));
    }

    #[test]
    fn dual_channel_speakers_take_turns_and_are_audible() {
        let voice = Voice::from_sid("RE0123456789abcdef0123456789abcdef");
        let seconds = 60 * u64::from(SAMPLE_RATE);
        let peak = |ch| (0..seconds).map(|n| voice.sample(n, ch, 2).unsigned_abs()).max();
        assert!(peak(0) > Some(4000) && peak(1) > Some(4000));
        // Never both at once.
        assert!((0..seconds).all(|n| voice.sample(n, 0, 2) == 0 || voice.sample(n, 1, 2) == 0));
    }
}
