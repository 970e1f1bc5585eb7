/**
 * Hugging Face tokenizers through DJL, offline: whole-text encoding with token offsets as Java
 * UTF-16 offsets into the original text.
 */
package io.nlpstream.models.tokenizer;
