/** The JSON form of specs and process groups, through one shared, strict Jackson mapper. */
package io.colo4j.spec.json;
