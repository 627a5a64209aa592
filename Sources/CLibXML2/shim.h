#ifndef CAREGATE_CLIBXML2_SHIM_H
#define CAREGATE_CLIBXML2_SHIM_H
// Debian's libxml2 is built with ICU; its encoding.h then pulls in <unicode/ucnv.h>, which clashes with
// Foundation's own ICU module. CareGate never asks libxml2 for ICU conversions, so hide them.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/xmlerror.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <libxml/xmlschemas.h>

// libxml2 prints some errors that reach no parser's callbacks (an encoding converter's, quoting the bytes it
// refused) to stderr through its generic handler, which is variadic and so cannot be written in Swift.
static void caregate_drop_generic_error(void *context, const char *message, ...) {
    (void)context;
    (void)message;
}

// Drops them on this thread and on every thread that has not used libxml2 yet.
static inline void caregate_drop_generic_errors(void) {
    xmlThrDefSetGenericErrorFunc(NULL, caregate_drop_generic_error);
    xmlSetGenericErrorFunc(NULL, caregate_drop_generic_error);
}
#endif
