// A recording player: play/pause, a waveform (from the peaks endpoint)
// and a slider to seek anywhere (the browser asks the stream endpoint for
// just that range), speed 1×/1.5×/2×, and download. Keyboard: the
// controls are ordinary buttons, a range input and a select; Space on the
// waveform plays or pauses, arrows move five seconds.

import { el, formatDuration, api } from './common.js';

const SPEEDS = [1, 1.5, 2];

export class Player {
  constructor(recording, { label = 'Recording', autoplay = false } = {}) {
    this.recording = recording;
    this.duration = recording.durationSeconds || 0;
    this.audio = el('audio', { preload: 'none', src: `/api/recordings/${recording.id}/stream` });
    this.playButton = el('button', { type: 'button', class: 'play', 'aria-label': `Play ${label}` }, '▶');
    this.canvas = el('canvas', { class: 'wave', width: 600, height: 48, tabindex: '0', role: 'img',
      'aria-label': `Waveform of ${label}; press space to play or pause, arrows to move` });
    this.seek = el('input', { type: 'range', class: 'seek', min: 0, max: Math.max(this.duration, 1), step: '0.1', value: 0,
      'aria-label': `Position in ${label}` });
    this.time = el('span', { class: 'time', 'aria-hidden': 'true' }, this.timeText(0));
    this.speed = el('select', { class: 'speed', 'aria-label': 'Playback speed' },
      SPEEDS.map((s) => el('option', { value: s }, `${s}×`)));
    this.download = el('a', { class: 'button download', href: `/api/recordings/${recording.id}/download`, download: '' }, 'Download');
    this.node = el('div', { class: 'player', role: 'group', 'aria-label': `${label} player`, dataset: { recordingId: recording.id } },
      this.playButton,
      el('div', { class: 'track' }, this.canvas, this.seek),
      this.time, this.speed, this.download, this.audio);
    this.peaks = null;
    this.wire();
    this.loadPeaks();
    if (autoplay) this.play();
  }

  timeText(at) {
    return `${formatDuration(at)} / ${formatDuration(this.duration)}`;
  }

  wire() {
    const { audio } = this;
    this.playButton.addEventListener('click', () => (audio.paused ? this.play() : audio.pause()));
    audio.addEventListener('play', () => this.showPlaying(true));
    audio.addEventListener('pause', () => this.showPlaying(false));
    audio.addEventListener('ended', () => this.showPlaying(false));
    audio.addEventListener('loadedmetadata', () => {
      if (Number.isFinite(audio.duration) && audio.duration > 0) {
        this.duration = audio.duration;
        this.seek.max = audio.duration;
      }
    });
    audio.addEventListener('timeupdate', () => this.showPosition(audio.currentTime));
    this.seek.addEventListener('input', () => this.seekTo(Number(this.seek.value)));
    this.speed.addEventListener('change', () => (audio.playbackRate = Number(this.speed.value)));
    this.canvas.addEventListener('click', (e) => {
      const box = this.canvas.getBoundingClientRect();
      this.seekTo(((e.clientX - box.left) / box.width) * this.duration);
    });
    this.canvas.addEventListener('keydown', (e) => {
      if (e.key === ' ' || e.key === 'Enter') {
        e.preventDefault();
        audio.paused ? this.play() : audio.pause();
      } else if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
        e.preventDefault();
        this.seekTo(audio.currentTime + (e.key === 'ArrowRight' ? 5 : -5));
      }
    });
    new ResizeObserver(() => this.draw()).observe(this.canvas);
  }

  async play() {
    try {
      await this.audio.play();
    } catch (e) {
      if (e.name !== 'AbortError') this.node.dispatchEvent(new CustomEvent('player-error', { bubbles: true, detail: e.message }));
    }
  }

  pause() {
    this.audio.pause();
  }

  seekTo(seconds) {
    const at = Math.min(Math.max(0, seconds), this.duration || 0);
    // With preload=none nothing is loaded yet; loading first makes the
    // seek a single ranged request instead of a request from byte 0.
    if (this.audio.readyState === 0) this.audio.load();
    this.audio.currentTime = at;
    this.showPosition(at);
  }

  showPlaying(playing) {
    this.playButton.textContent = playing ? '❚❚' : '▶';
    this.playButton.setAttribute('aria-label', this.playButton.getAttribute('aria-label').replace(/^(Play|Pause)/, playing ? 'Pause' : 'Play'));
    this.node.classList.toggle('playing', playing);
  }

  showPosition(at) {
    this.seek.value = at;
    this.seek.setAttribute('aria-valuetext', formatDuration(at));
    this.time.textContent = this.timeText(at);
    this.draw();
  }

  async loadPeaks() {
    try {
      const peaks = await api(`/api/recordings/${this.recording.id}/peaks`);
      this.peaks = peaks && peaks.peaks ? peaks.peaks : null;
    } catch {
      this.peaks = null; // not archived yet: a flat line until it is
    }
    this.draw();
  }

  draw() {
    const canvas = this.canvas;
    const width = Math.max(1, Math.round(canvas.clientWidth * devicePixelRatio));
    const height = Math.max(1, Math.round(canvas.clientHeight * devicePixelRatio));
    if (canvas.width !== width) canvas.width = width;
    if (canvas.height !== height) canvas.height = height;
    const g = canvas.getContext('2d');
    if (!g) return;
    g.clearRect(0, 0, width, height);
    const played = this.duration > 0 ? (this.audio.currentTime / this.duration) * width : 0;
    const style = getComputedStyle(canvas);
    const channels = this.peaks && this.peaks.length ? this.peaks : null;
    const bars = Math.max(1, Math.floor(width / (3 * devicePixelRatio)));
    const mid = height / 2;
    for (let i = 0; i < bars; i++) {
      let value = 0.02;
      if (channels) {
        for (const channel of channels) {
          const from = Math.floor((i / bars) * channel.length);
          const to = Math.max(from + 1, Math.floor(((i + 1) / bars) * channel.length));
          for (let j = from; j < to && j < channel.length; j++) value = Math.max(value, channel[j]);
        }
      }
      const x = (i / bars) * width;
      const h = Math.max(1, value * (height - 2));
      g.fillStyle = x < played ? style.getPropertyValue('--wave-played') || '#1f4fd1' : style.getPropertyValue('--wave') || '#9aa7bd';
      g.fillRect(x, mid - h / 2, Math.max(1, (width / bars) * 0.7), h);
    }
  }

  destroy() {
    this.audio.pause();
    this.audio.removeAttribute('src');
    this.audio.load();
    this.node.remove();
  }
}
