/**
 * The store conformance suite: run it against any store, with any test runner.
 * @module
 */
export { testSessionStore, type ConformanceOptions, type StoreCapability, type TestRunner } from './testing/conformance.js'
