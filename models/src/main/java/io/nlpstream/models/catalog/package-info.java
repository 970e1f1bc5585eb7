/**
 * Model bundles ({@code model.json} + files) by id, from an extra directory or the classpath, with
 * sha256 verification of every file at load.
 */
package io.nlpstream.models.catalog;
