/** Benchmarks that print figures for the hardware they run on; they assert nothing. */
package io.nlpstream.models.bench;
