MEMORY MANAGEMENT - ANONYMOUS FOLIO ORDER
L:	linux-mm@kvack.org
S:	Maintained
F:	mm/anon_folio_order.h
F:	tools/testing/anon-order/
