/** colo4j rules module. */
package io.colo4j.rules;
