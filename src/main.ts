#!/usr/bin/env node
// Kimura's entry point. The polyfill is imported first, before anything that loads libp2p.
import './shared/polyfill.js'
import { runCli } from './main/cli/cli.js'

process.exitCode = await runCli(process.argv)
