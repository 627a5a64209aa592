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
#endif
