/**
 * Fault injection with exact accounting: the machinery of {@code nlpstream soak} and of the fault
 * integration tests (kill -9 of the service, broker outage, rolling restart, failing model).
 *
 * <ul>
 *   <li>{@link io.nlpstream.faults.ServiceProcess}: the enrichment service ({@code nlpstream run}) in
 *       a child JVM that can be killed with SIGKILL or stopped with SIGTERM, logging to a file, and
 *       that exits with its parent ({@link io.nlpstream.faults.ExitWithParent}).</li>
 *   <li>{@link io.nlpstream.faults.EventFeed}: produces numbered input events (valid, invalid,
 *       routed: an {@link io.nlpstream.faults.EventFeed.Mix}) in bursts or at a steady rate, and
 *       tells the audit what each acknowledged record must become.</li>
 *   <li>{@link io.nlpstream.faults.DeliveryAudit}: reads the output topics as committed
 *       ({@code read_committed}), counts each output by event id and reports what was lost,
 *       duplicated or unexpected as a {@link io.nlpstream.faults.Tally}.</li>
 *   <li>{@link io.nlpstream.faults.SoakRun}: the long scenario: continuous input, periodic
 *       {@code kill -9} of the service and broker stop/start, then the tally.</li>
 * </ul>
 *
 * Nothing here is used by the service itself; it drives the service from outside, through Kafka
 * and process signals, exactly as an operator's faults would hit it.
 */
package io.nlpstream.faults;
