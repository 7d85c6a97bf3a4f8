// dom.js: the one helper the pages' modules share for finding elements.

/** The element with this id (the pages are rendered with every id the modules use). @param {string} id */
export const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
