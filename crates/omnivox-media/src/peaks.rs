//! Waveform peaks for the player: the loudest sample of each slice of the
//! recording, per channel, decoded once with symphonia. Decoding also
//! proves the stored file is whole audio of the expected length.

use std::path::Path;

use serde::{Deserialize, Serialize};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::DecoderOptions;
use symphonia::core::errors::Error as DecodeError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// Slices the peaks of a recording are reduced to, at most.
pub const MAX_BUCKETS: usize = 1000;

/// `peaks[channel][slice]` is the largest absolute sample of that slice,
/// 0.0–1.0 with three decimals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Peaks {
    pub duration_seconds: f64,
    pub sample_rate: u32,
    pub channels: usize,
    pub peaks: Vec<Vec<f32>>,
}

#[derive(Debug, thiserror::Error)]
pub enum PeaksError {
    #[error("cannot read the media: {0}")]
    Io(#[from] std::io::Error),
    #[error("the media is not decodable audio: {0}")]
    Decode(String),
}

impl From<DecodeError> for PeaksError {
    fn from(e: DecodeError) -> Self {
        PeaksError::Decode(e.to_string())
    }
}

/// Decodes the file at `path` (`extension` hints its format) to its peaks.
/// Blocking: call from `spawn_blocking`.
pub fn decode_peaks(path: &Path, extension: &str) -> Result<Peaks, PeaksError> {
    let file = std::fs::File::open(path)?;
    let source = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(extension);
    let probed = symphonia::default::get_probe().format(
        &hint,
        source,
        &FormatOptions::default(),
        &MetadataOptions::default(),
    )?;
    let mut format = probed.format;
    let track = format.default_track().ok_or_else(|| PeaksError::Decode("no audio track".into()))?;
    let track_id = track.id;
    let mut decoder = symphonia::default::get_codecs().make(&track.codec_params, &DecoderOptions::default())?;
    let mut windows = Windows::default();
    let mut samples: Option<SampleBuffer<f32>> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            Err(DecodeError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e.into()),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            // A damaged frame is skipped, as players do.
            Err(DecodeError::DecodeError(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        let spec = *decoded.spec();
        let buffer = match samples.as_mut() {
            Some(b) if b.capacity() >= decoded.capacity() * spec.channels.count() => b,
            _ => samples.insert(SampleBuffer::new(decoded.capacity() as u64, spec)),
        };
        buffer.copy_interleaved_ref(decoded);
        windows.push(buffer.samples(), spec.channels.count(), spec.rate);
    }
    windows.finish()
}

/// Running maxima over 10 ms windows; reduced to buckets at the end, since
/// the number of frames is not always known up front (MP3).
#[derive(Default)]
struct Windows {
    sample_rate: u32,
    channels: usize,
    frames: u64,
    window_frames: u64,
    in_window: u64,
    current: Vec<f32>,
    /// `done[channel]`: one maximum per finished window.
    done: Vec<Vec<f32>>,
}

impl Windows {
    fn push(&mut self, interleaved: &[f32], channels: usize, rate: u32) {
        if channels == 0 {
            return;
        }
        if self.channels == 0 {
            self.channels = channels;
            self.sample_rate = rate;
            self.window_frames = u64::from(rate / 100).max(1);
            self.current = vec![0.0; channels];
            self.done = vec![Vec::new(); channels];
        }
        for frame in interleaved.chunks_exact(channels) {
            for (max, sample) in self.current.iter_mut().zip(frame) {
                *max = max.max(sample.abs());
            }
            self.frames += 1;
            self.in_window += 1;
            if self.in_window == self.window_frames {
                self.close_window();
            }
        }
    }

    fn close_window(&mut self) {
        for (done, max) in self.done.iter_mut().zip(self.current.iter_mut()) {
            done.push(max.min(1.0));
            *max = 0.0;
        }
        self.in_window = 0;
    }

    fn finish(mut self) -> Result<Peaks, PeaksError> {
        if self.frames == 0 || self.sample_rate == 0 {
            return Err(PeaksError::Decode("no audio frames".into()));
        }
        if self.in_window > 0 {
            self.close_window();
        }
        let windows = self.done.first().map_or(0, Vec::len);
        let buckets = windows.min(MAX_BUCKETS);
        let peaks = self
            .done
            .iter()
            .map(|done| {
                (0..buckets)
                    .map(|b| {
                        let slice = &done[b * windows / buckets..(b + 1) * windows / buckets];
                        let max = slice.iter().copied().fold(0.0f32, f32::max);
                        (max * 1000.0).round() / 1000.0
                    })
                    .collect()
            })
            .collect();
        Ok(Peaks {
            duration_seconds: self.frames as f64 / f64::from(self.sample_rate),
            sample_rate: self.sample_rate,
            channels: self.channels,
            peaks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 16-bit PCM WAV: `seconds` of a loud first half and a silent second half.
    fn wav(channels: u16, rate: u32, seconds: u32) -> Vec<u8> {
        let frames = rate * seconds;
        let data_len = frames * u32::from(channels) * 2;
        let mut out = Vec::new();
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(36 + data_len).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&channels.to_le_bytes());
        out.extend_from_slice(&rate.to_le_bytes());
        out.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
        out.extend_from_slice(&(channels * 2).to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data_len.to_le_bytes());
        for i in 0..frames {
            let loud = i < frames / 2;
            for _ in 0..channels {
                let v: i16 = if loud {
                    if i % 2 == 0 {
                        16_384
                    } else {
                        -16_384
                    }
                } else {
                    0
                };
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        out
    }

    #[test]
    fn peaks_follow_the_signal_and_duration_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wav");
        std::fs::write(&path, wav(2, 8000, 4)).unwrap();
        let peaks = decode_peaks(&path, "wav").unwrap();
        assert_eq!(peaks.channels, 2);
        assert_eq!(peaks.sample_rate, 8000);
        assert!((peaks.duration_seconds - 4.0).abs() < 1e-9);
        assert_eq!(peaks.peaks.len(), 2);
        let first = &peaks.peaks[0];
        assert_eq!(first.len(), 400, "10 ms windows, fewer than the bucket cap");
        assert!(first[..200].iter().all(|p| (*p - 0.5).abs() < 0.01), "loud half");
        assert!(first[200..].iter().all(|p| *p == 0.0), "silent half");
    }

    #[test]
    fn long_recordings_are_reduced_to_the_bucket_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.wav");
        std::fs::write(&path, wav(1, 8000, 30)).unwrap();
        let peaks = decode_peaks(&path, "wav").unwrap();
        assert_eq!(peaks.peaks[0].len(), MAX_BUCKETS);
    }

    #[test]
    fn garbage_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.wav");
        std::fs::write(&path, b"<html>not audio</html>").unwrap();
        assert!(matches!(decode_peaks(&path, "wav"), Err(PeaksError::Decode(_))));
    }
}
