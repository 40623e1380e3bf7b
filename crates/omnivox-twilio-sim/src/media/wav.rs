//! WAV media as Twilio serves it: RIFF/WAVE, PCM 16-bit little-endian, 8 kHz, one channel per
//! recorded party (2 for dual-channel recordings). Any byte range is computed on demand from
//! the header and the sample generator, so nothing is buffered per request.

use super::tone::{Voice, SAMPLE_RATE};

pub(crate) const HEADER_LEN: u64 = 44;
const BYTES_PER_SAMPLE: u64 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wav {
    voice: Voice,
    channels: u16,
    samples_per_channel: u64,
}

impl Wav {
    pub fn new(voice: Voice, channels: u8, duration_secs: u32) -> Self {
        Self {
            voice,
            channels: u16::from(channels.clamp(1, 2)),
            samples_per_channel: u64::from(duration_secs) * u64::from(SAMPLE_RATE),
        }
    }

    fn frame_len(&self) -> u64 {
        u64::from(self.channels) * BYTES_PER_SAMPLE
    }

    fn data_len(&self) -> u64 {
        self.samples_per_channel * self.frame_len()
    }

    pub fn len(&self) -> u64 {
        HEADER_LEN + self.data_len()
    }

    fn header(&self) -> [u8; HEADER_LEN as usize] {
        // A recording is hours at most, far below the 4 GiB a RIFF size field can hold.
        let data_len = u32::try_from(self.data_len()).unwrap_or(u32::MAX - 36);
        let channels = self.channels;
        let block_align = channels * 2;
        let byte_rate = SAMPLE_RATE * u32::from(block_align);
        let mut h = [0u8; HEADER_LEN as usize];
        let fields: [&[u8]; 13] = [
            b"RIFF",
            &(36 + data_len).to_le_bytes(),
            b"WAVE",
            b"fmt ",
            &16u32.to_le_bytes(), // fmt chunk size for plain PCM
            &1u16.to_le_bytes(),  // format 1 = PCM
            &channels.to_le_bytes(),
            &SAMPLE_RATE.to_le_bytes(),
            &byte_rate.to_le_bytes(),
            &block_align.to_le_bytes(),
            &16u16.to_le_bytes(), // bits per sample
            b"data",
            &data_len.to_le_bytes(),
        ];
        let mut at = 0;
        for field in fields {
            h[at..at + field.len()].copy_from_slice(field);
            at += field.len();
        }
        h
    }

    /// Fills `buf` with the bytes starting at `offset`; bytes past the end are left as is.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) {
        let mut pos = offset;
        let end = (offset + buf.len() as u64).min(self.len());
        if pos < HEADER_LEN {
            let header = self.header();
            let upto = end.min(HEADER_LEN);
            buf[..(upto - pos) as usize].copy_from_slice(&header[pos as usize..upto as usize]);
            pos = upto;
        }
        let frame_len = self.frame_len();
        let channels = usize::from(self.channels);
        while pos < end {
            let data_pos = pos - HEADER_LEN;
            let (index, within) = (data_pos / frame_len, data_pos % frame_len);
            let mut frame = [0u8; 4];
            for channel in 0..channels {
                let sample = self.voice.sample(index, channel, channels).to_le_bytes();
                frame[channel * 2..channel * 2 + 2].copy_from_slice(&sample);
            }
            let take = (frame_len - within).min(end - pos);
            let out = (pos - offset) as usize;
            buf[out..out + take as usize].copy_from_slice(&frame[within as usize..(within + take) as usize]);
            pos += take;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(channels: u8, secs: u32) -> Wav {
        Wav::new(Voice::from_sid("RE0123456789abcdef0123456789abcdef"), channels, secs)
    }

    fn whole(w: &Wav) -> Vec<u8> {
        let mut all = vec![0; w.len() as usize];
        w.read_at(0, &mut all);
        all
    }

    #[test]
    fn header_sizes_are_consistent() {
        let w = wav(2, 3);
        let all = whole(&w);
        assert_eq!(all.len(), 44 + 3 * 8000 * 4);
        assert_eq!(&all[..4], b"RIFF");
        assert_eq!(u32::from_le_bytes([all[4], all[5], all[6], all[7]]) as usize, all.len() - 8);
        assert_eq!(&all[8..16], b"WAVEfmt ");
        assert_eq!(u16::from_le_bytes([all[22], all[23]]), 2);
        assert_eq!(&all[36..40], b"data");
        assert_eq!(u32::from_le_bytes([all[40], all[41], all[42], all[43]]) as usize, all.len() - 44);
    }

    #[test]
    fn any_slice_equals_the_same_bytes_of_the_whole() {
        for channels in [1, 2] {
            let w = wav(channels, 2);
            let all = whole(&w);
            for (offset, len) in [(0, 1), (3, 50), (43, 2), (44, 1), (45, 3), (1001, 4097), (all.len() - 5, 5)] {
                let mut part = vec![0; len];
                w.read_at(offset as u64, &mut part);
                assert_eq!(part, all[offset..offset + len], "channels {channels} offset {offset}");
            }
        }
    }
}
