// Sign in, then go back to the page that asked for it.
import { api } from './common.js';

const form = document.getElementById('login');
const error = document.getElementById('login-error');

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const username = form.elements.username.value.trim();
  const password = form.elements.password.value;
  if (!username || !password) {
    error.textContent = 'Enter your user name and password.';
    error.hidden = false;
    return;
  }
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  try {
    await api('/api/auth/login', { method: 'POST', body: { username, password } });
    location.assign(form.dataset.next || '/call-records');
  } catch (err) {
    error.textContent = err.message;
    error.hidden = false;
    form.elements.password.select();
    button.disabled = false;
  }
});
