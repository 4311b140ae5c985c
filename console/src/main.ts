import { mount } from 'svelte';
import { adoptOperatorToken } from './api';
import App from './App.svelte';
import './app.css';

adoptOperatorToken();

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
mount(App, { target });
