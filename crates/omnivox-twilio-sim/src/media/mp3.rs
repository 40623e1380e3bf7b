//! MP3 media: a constant-bitrate MPEG-2.5 Layer III stream (8 kHz, 32 kbit/s, 288-byte
//! frames of 576 samples), built frame by frame without an encoder.
//!
//! Why no encoder: the one pure-Rust MP3 encoder on crates.io (`rusty_mp3`) is young, would
//! cost real CPU per request on a 2-core machine serving thousands of imports, and could only
//! serve a byte range by encoding everything before it. Here every frame is a pure function
//! of its index, so any range is computed directly and the bytes never change.
//!
//! Each frame has one granule of long blocks per channel. A talking channel carries a single
//! quantized MDCT line at its speaker's pitch (line k sits at (k + ½) · 4000/576 Hz), coded
//! with Huffman table 1, and `global_gain` follows the speech envelope; a quiet channel has
//! no spectral data at all. Decoders turn that into a tone that comes and goes with the
//! syllables of the WAV version. No scale factors (scalefac_compress 0), no bit reservoir
//! (main_data_begin 0), no CRC.

use super::tone::{Voice, SAMPLE_RATE};

pub(crate) const FRAME_LEN: u64 = 288;
pub(crate) const SAMPLES_PER_FRAME: u64 = 576;
/// `global_gain` at which one quantized unit is full scale (the requantizer's 2^((g-210)/4)).
const UNITY_GAIN: i32 = 210;
/// Output level of a fully loud syllable, in quarter-steps of 1.5 dB below unity (≈ -9 dB).
const LOUDEST: i32 = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mp3 {
    voice: Voice,
    channels: u8,
    frames: u64,
}

impl Mp3 {
    pub fn new(voice: Voice, channels: u8, duration_secs: u32) -> Self {
        let samples = u64::from(duration_secs) * u64::from(SAMPLE_RATE);
        Self { voice, channels: channels.clamp(1, 2), frames: samples.div_ceil(SAMPLES_PER_FRAME) }
    }

    pub fn len(&self) -> u64 {
        self.frames * FRAME_LEN
    }

    /// Fills `buf` with the bytes starting at `offset`; bytes past the end are left as is.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) {
        let end = (offset + buf.len() as u64).min(self.len());
        let mut pos = offset;
        while pos < end {
            let (index, within) = (pos / FRAME_LEN, pos % FRAME_LEN);
            let frame = self.frame(index);
            let take = (FRAME_LEN - within).min(end - pos);
            let out = (pos - offset) as usize;
            buf[out..out + take as usize].copy_from_slice(&frame[within as usize..(within + take) as usize]);
            pos += take;
        }
    }

    fn frame(&self, index: u64) -> [u8; FRAME_LEN as usize] {
        let mut frame = [0u8; FRAME_LEN as usize];
        let stereo = self.channels == 2;
        // Sync, MPEG-2.5, Layer III, no CRC | 32 kbit/s, 8 kHz, no padding | mode, original.
        frame[..4].copy_from_slice(&[0xFF, 0xE3, 0x48, if stereo { 0x04 } else { 0xC4 }]);
        let (speaker, level) = self.voice.envelope(index * SAMPLES_PER_FRAME + SAMPLES_PER_FRAME / 2);
        let granules: Vec<Granule> = (0..usize::from(self.channels))
            .map(|channel| {
                let talking = !stereo || channel == speaker;
                match gain_for(level) {
                    Some(gain) if talking => Granule::tone(line_for(self.voice.pitch_hz(speaker)), gain),
                    _ => Granule::SILENT,
                }
            })
            .collect();
        let mut bits = BitWriter::new(&mut frame[4..]);
        // Side information (LSF): main_data_begin, private bits, then one granule per channel.
        bits.put(0, 8);
        bits.put(0, if stereo { 2 } else { 1 });
        for granule in &granules {
            granule.write_side_info(&mut bits);
        }
        // Main data: no scale factor bits (scalefac_compress 0), then the Huffman codes.
        for granule in &granules {
            granule.write_main_data(&mut bits);
        }
        frame
    }
}

/// The MDCT line closest to `hz`: 576 lines share 0–4 kHz.
fn line_for(hz: u32) -> u32 {
    (hz * 2 * SAMPLES_PER_FRAME as u32 / SAMPLE_RATE).min(500)
}

/// `global_gain` for an envelope level (0–1), in the requantizer's 1.5 dB steps, or `None`
/// when too quiet to bother. Found by comparing level⁴ with exact powers of two, so no
/// logarithm (and no platform rounding) is involved.
fn gain_for(level: f64) -> Option<u32> {
    let fourth = level * level * level * level;
    (0..40).find(|&steps| fourth >= 1.0 / (1u64 << steps) as f64).map(|steps| (UNITY_GAIN - LOUDEST - steps) as u32)
}

/// One channel's granule: either silence or a single MDCT line of value ±1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Granule {
    line: u32,
    gain: u32,
    silent: bool,
}

impl Granule {
    const SILENT: Self = Self { line: 0, gain: 0, silent: true };

    fn tone(line: u32, gain: u32) -> Self {
        Self { line, gain, silent: false }
    }

    /// Pairs before the one holding the line, coded (0,0) = `1`; then (1,0) = `01` or
    /// (0,1) = `001`, each followed by a 0 sign bit (positive).
    fn huffman_bits(&self) -> u32 {
        if self.silent {
            0
        } else {
            self.line / 2 + if self.line % 2 == 0 { 3 } else { 4 }
        }
    }

    fn write_side_info(&self, bits: &mut BitWriter<'_>) {
        let big_values = if self.silent { 0 } else { self.line / 2 + 1 };
        let table = if self.silent { 0 } else { 1 };
        bits.put(self.huffman_bits(), 12); // part2_3_length (no part 2)
        bits.put(big_values, 9);
        bits.put(self.gain, 8); // global_gain
        bits.put(0, 9); // scalefac_compress: no scale factors
        bits.put(0, 1); // window_switching_flag: long blocks
        for _ in 0..3 {
            bits.put(table, 5); // table_select per region: all table 1
        }
        bits.put(0, 4); // region0_count
        bits.put(0, 3); // region1_count
        bits.put(0, 1); // scalefac_scale
        bits.put(0, 1); // count1table_select
    }

    fn write_main_data(&self, bits: &mut BitWriter<'_>) {
        if self.silent {
            return;
        }
        for _ in 0..self.line / 2 {
            bits.put(0b1, 1);
        }
        if self.line % 2 == 0 {
            bits.put(0b01, 2);
        } else {
            bits.put(0b001, 3);
        }
        bits.put(0, 1); // sign: positive
    }
}

/// Most-significant-bit-first writer into a zeroed buffer. Bits past its end are dropped
/// (a frame always has room: at most ~300 of its 2,200 bits are used).
struct BitWriter<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> BitWriter<'a> {
    fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    fn put(&mut self, value: u32, width: u32) {
        for i in (0..width).rev() {
            if (value >> i) & 1 == 1 {
                if let Some(byte) = self.buf.get_mut(self.pos / 8) {
                    *byte |= 0x80 >> (self.pos % 8);
                }
            }
            self.pos += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mp3(channels: u8, secs: u32) -> Mp3 {
        Mp3::new(Voice::from_sid("RE0123456789abcdef0123456789abcdef"), channels, secs)
    }

    #[test]
    fn every_frame_has_a_valid_header_and_the_stream_has_the_right_length() {
        let m = mp3(2, 4);
        assert_eq!(m.len(), 56 * FRAME_LEN, "ceil(4 s · 8000 / 576) frames");
        let mut all = vec![0; m.len() as usize];
        m.read_at(0, &mut all);
        for frame in all.chunks(FRAME_LEN as usize) {
            assert_eq!(&frame[..4], &[0xFF, 0xE3, 0x48, 0x04]);
        }
    }

    #[test]
    fn any_slice_equals_the_same_bytes_of_the_whole() {
        let m = mp3(1, 3);
        let mut all = vec![0; m.len() as usize];
        m.read_at(0, &mut all);
        for (offset, len) in [(0usize, 1usize), (5, 300), (287, 2), (1000, 5000)] {
            let mut part = vec![0; len];
            m.read_at(offset as u64, &mut part);
            assert_eq!(part, all[offset..offset + len]);
        }
    }

    #[test]
    fn gain_follows_the_level() {
        assert_eq!(gain_for(1.0), Some(204));
        assert_eq!(gain_for(0.5), Some(200), "half the level is 4 steps of 1.5 dB lower");
        assert_eq!(gain_for(0.0), None);
    }

    #[test]
    fn bit_writer_packs_msb_first() {
        let mut buf = [0u8; 2];
        let mut bits = BitWriter::new(&mut buf);
        bits.put(0b101, 3);
        bits.put(0b1, 1);
        bits.put(0xFF, 8);
        assert_eq!(buf, [0b1011_1111, 0b1111_0000]);
    }
}
