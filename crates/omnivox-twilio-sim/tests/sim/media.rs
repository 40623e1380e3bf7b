//! Recording media: valid WAV and MP3 that decode to the stated duration, deterministic
//! bytes, and byte-exact HTTP Range behaviour.

use std::io::Cursor;

use omnivox_twilio_sim::{CallSpec, Simulator};
use sha2::{Digest as _, Sha256};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::DecoderOptions;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::helpers::*;

/// Decoded audio: sample rate and one sample vector per channel.
struct Decoded {
    rate: u32,
    channels: Vec<Vec<f32>>,
}

impl Decoded {
    fn seconds(&self) -> f64 {
        self.channels[0].len() as f64 / f64::from(self.rate)
    }

    /// The strongest frequency of `channel` between 100 and 700 Hz in 2 Hz steps: Goertzel
    /// power summed over 0.1 s blocks, whose ~10 Hz bins tolerate a pitch between steps.
    fn dominant_hz(&self, channel: usize) -> u32 {
        let block = (self.rate / 10) as usize;
        let power = |hz: u32| {
            let coefficient = 2.0 * (std::f64::consts::TAU * f64::from(hz) / f64::from(self.rate)).cos();
            let mut total = 0.0;
            for samples in self.channels[channel].chunks(block) {
                let (mut s1, mut s2) = (0.0, 0.0);
                for sample in samples {
                    let s0 = f64::from(*sample) + coefficient * s1 - s2;
                    s2 = s1;
                    s1 = s0;
                }
                total += s1 * s1 + s2 * s2 - coefficient * s1 * s2;
            }
            total
        };
        (50..350).map(|i| i * 2).max_by(|a, b| power(*a).total_cmp(&power(*b))).unwrap()
    }

    fn rms(&self, channel: usize) -> f64 {
        let samples = &self.channels[channel];
        (samples.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / samples.len() as f64).sqrt()
    }
}

/// Decodes with symphonia, failing on any decode error.
fn decode(bytes: Vec<u8>, extension: &str) -> Decoded {
    let stream = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(extension);
    let probed = symphonia::default::get_probe()
        .format(&hint, stream, &FormatOptions::default(), &MetadataOptions::default())
        .expect("recognised container");
    let mut format = probed.format;
    let track = format.default_track().expect("a track").clone();
    let mut decoder =
        symphonia::default::get_codecs().make(&track.codec_params, &DecoderOptions::default()).expect("a decoder");
    let mut out = Decoded { rate: track.codec_params.sample_rate.expect("sample rate"), channels: Vec::new() };
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => panic!("demuxing failed: {e}"),
        };
        let audio = decoder.decode(&packet).expect("every packet decodes");
        let spec = *audio.spec();
        let count = spec.channels.count();
        let mut buffer = SampleBuffer::<f32>::new(audio.capacity() as u64, spec);
        buffer.copy_interleaved_ref(audio);
        out.channels.resize(count, Vec::new());
        for frame in buffer.samples().chunks(count) {
            for (channel, sample) in frame.iter().enumerate() {
                out.channels[channel].push(*sample);
            }
        }
    }
    out
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap())
}

fn media_call(sim: &Simulator, duration_secs: u32, channels: u8) -> String {
    let call = sim.add_call(CallSpec { duration_secs, recording_channels: channels, ..CallSpec::default() });
    call.recording_sid().unwrap().to_owned()
}

#[tokio::test]
async fn wav_is_pcm16_8khz_with_consistent_sizes_and_decodes_to_its_duration() {
    let sim = start().await;
    for channels in [2u8, 1] {
        let sid = media_call(&sim, 7, channels);
        let response = get(&sim, &recording_path(&sim, &sid, ".wav")).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "audio/x-wav");
        assert_eq!(response.headers()["accept-ranges"], "bytes");
        let length: usize = response.headers()["content-length"].to_str().unwrap().parse().unwrap();
        let wav = response.bytes().await.unwrap().to_vec();
        assert_eq!(wav.len(), length);

        assert_eq!(
            (&wav[0..4], &wav[8..12], &wav[12..16], &wav[36..40]),
            (&b"RIFF"[..], &b"WAVE"[..], &b"fmt "[..], &b"data"[..])
        );
        assert_eq!(u32_at(&wav, 4) as usize, wav.len() - 8, "RIFF size");
        assert_eq!(u32_at(&wav, 16), 16, "PCM fmt chunk");
        assert_eq!(u16_at(&wav, 20), 1, "PCM");
        assert_eq!(u16_at(&wav, 22), u16::from(channels));
        assert_eq!(u32_at(&wav, 24), 8000);
        assert_eq!(u32_at(&wav, 28), 8000 * 2 * u32::from(channels), "byte rate");
        assert_eq!(u16_at(&wav, 32), 2 * u16::from(channels), "block align");
        assert_eq!(u16_at(&wav, 34), 16);
        assert_eq!(u32_at(&wav, 40) as usize, wav.len() - 44, "data size");
        assert_eq!(u32_at(&wav, 40), 7 * 8000 * 2 * u32::from(channels), "7 s of audio");

        let decoded = decode(wav, "wav");
        assert_eq!((decoded.rate, decoded.channels.len()), (8000, usize::from(channels)));
        assert!((decoded.seconds() - 7.0).abs() <= 1.0 / 8000.0, "{} s", decoded.seconds());
        for channel in 0..decoded.channels.len() {
            assert!(decoded.rms(channel) > 0.02, "channel {channel} is audible: rms {}", decoded.rms(channel));
        }
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn mp3_is_a_valid_mpeg_stream_that_decodes_to_its_duration() {
    let sim = start().await;
    for channels in [2u8, 1] {
        let sid = media_call(&sim, 9, channels);
        let response = get(&sim, &recording_path(&sim, &sid, ".mp3")).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "audio/mpeg");
        let mp3 = response.bytes().await.unwrap().to_vec();

        // Walk the frames by their headers: MPEG-2.5 Layer III, 32 kbit/s, 8 kHz, 288 bytes.
        let mut frames = 0;
        for frame in mp3.chunks(288) {
            assert_eq!(frame.len(), 288);
            assert_eq!((frame[0], frame[1] & 0xE0), (0xFF, 0xE0), "frame sync");
            assert_eq!((frame[1] >> 3) & 0b11, 0b00, "MPEG-2.5");
            assert_eq!((frame[1] >> 1) & 0b11, 0b01, "Layer III");
            assert_eq!(frame[2] >> 4, 4, "32 kbit/s");
            assert_eq!((frame[2] >> 2) & 0b11, 0b10, "8 kHz");
            assert_eq!(frame[3] >> 6 == 0b11, channels == 1, "mono / stereo mode");
            frames += 1;
        }
        assert_eq!(frames, (9 * 8000_u32).div_ceil(576));

        let decoded = decode(mp3, "mp3");
        assert_eq!((decoded.rate, decoded.channels.len()), (8000, usize::from(channels)));
        let frame_secs = 576.0 / 8000.0;
        assert!((decoded.seconds() - 9.0).abs() <= frame_secs, "{} s", decoded.seconds());
        for channel in 0..decoded.channels.len() {
            assert!(decoded.rms(channel) > 0.01, "channel {channel} is audible: rms {}", decoded.rms(channel));
            let peak = decoded.channels[channel].iter().fold(0f32, |m, s| m.max(s.abs()));
            assert!(peak < 1.0, "no clipping: peak {peak}");
        }
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn wav_and_mp3_carry_the_same_voices() {
    let sim = start().await;
    let sid = media_call(&sim, 6, 2);
    let wav = decode(get_bytes(&sim, &recording_path(&sim, &sid, ".wav")).await, "wav");
    let mp3 = decode(get_bytes(&sim, &recording_path(&sim, &sid, ".mp3")).await, "mp3");
    let pitches: Vec<u32> = (0..2).map(|c| wav.dominant_hz(c)).collect();
    assert!(pitches[0] < pitches[1], "two different speakers: {pitches:?}");
    for (channel, &w) in pitches.iter().enumerate() {
        let m = mp3.dominant_hz(channel);
        eprintln!("channel {channel}: wav {w} Hz rms {:.3}, mp3 {m} Hz rms {:.3}", wav.rms(channel), mp3.rms(channel));
        assert!(w.abs_diff(m) <= 12, "channel {channel}: wav {w} Hz, mp3 {m} Hz");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn media_bytes_depend_only_on_the_sid_and_no_extension_means_wav() {
    let sim = start().await;
    let a = media_call(&sim, 3, 2);
    let b = media_call(&sim, 3, 2);
    let digest = |bytes: Vec<u8>| hex::encode(Sha256::digest(bytes));
    let wav = digest(get_bytes(&sim, &recording_path(&sim, &a, ".wav")).await);
    assert_eq!(wav, digest(get_bytes(&sim, &recording_path(&sim, &a, ".wav")).await));
    assert_eq!(wav, digest(get_bytes(&sim, &recording_path(&sim, &a, "")).await));
    assert_ne!(wav, digest(get_bytes(&sim, &recording_path(&sim, &b, ".wav")).await));
    let mp3 = digest(get_bytes(&sim, &recording_path(&sim, &a, ".mp3")).await);
    assert_eq!(mp3, digest(get_bytes(&sim, &recording_path(&sim, &a, ".mp3")).await));
    sim.shutdown().await;
}

#[tokio::test]
async fn ranges_are_byte_exact_206s_and_unsatisfiable_ones_416() {
    let sim = start().await;
    let sid = media_call(&sim, 5, 2);
    for extension in [".wav", ".mp3"] {
        let path = recording_path(&sim, &sid, extension);
        let full = get_bytes(&sim, &path).await;
        let len = full.len();
        let cases = [
            ("bytes=0-0".to_owned(), 0, 0),
            ("bytes=10-43".to_owned(), 10, 43),
            ("bytes=44-20000".to_owned(), 44, 20000),
            (format!("bytes={}-", len - 1000), len - 1000, len - 1),
            ("bytes=-777".to_owned(), len - 777, len - 1),
            (format!("bytes=-{}", len + 5), 0, len - 1),
            (format!("bytes=100-{}", len + 100), 100, len - 1),
        ];
        for (range, first, last) in cases {
            let response = get_with(&sim, &path, &[("range", &range)]).await;
            assert_eq!(response.status(), 206, "{extension} {range}");
            assert_eq!(response.headers()["content-range"], format!("bytes {first}-{last}/{len}"), "{range}");
            assert_eq!(response.headers()["content-length"], (last - first + 1).to_string());
            assert_eq!(response.headers()["accept-ranges"], "bytes");
            let body = response.bytes().await.unwrap();
            assert_eq!(body[..], full[first..=last], "{extension} {range}");
        }
        for range in [format!("bytes={len}-"), format!("bytes={}-{}", len + 10, len + 20), "bytes=-0".to_owned()] {
            let response = get_with(&sim, &path, &[("range", &range)]).await;
            assert_eq!(response.status(), 416, "{range}");
            assert_eq!(response.headers()["content-range"], format!("bytes */{len}"));
        }
        // A multi-range request gets the whole body.
        let response = get_with(&sim, &path, &[("range", "bytes=0-1,5-6")]).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.bytes().await.unwrap().len(), len);
    }
    // The request log shows what was asked for.
    let log = sim.request_log();
    assert!(log.iter().any(|r| r.status == 416 && r.range.as_deref() == Some("bytes=-0")));
    let full_wav_fetches = log.iter().filter(|r| r.path.ends_with(".wav") && r.range.is_none()).count();
    assert_eq!(full_wav_fetches, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn long_recordings_stream_in_chunks() {
    let sim = start().await;
    // An hour of dual-channel audio is 115 MB; it must arrive in pieces, not one buffer.
    let sid = media_call(&sim, 3600, 2);
    let response = get(&sim, &recording_path(&sim, &sid, ".wav")).await;
    assert_eq!(response.headers()["content-length"], (44 + 3600 * 8000 * 4).to_string());
    let mut response = response;
    let first = response.chunk().await.unwrap().unwrap();
    assert!(first.len() <= 64 * 1024, "first chunk {} bytes", first.len());
    drop(response);
    sim.shutdown().await;
}
