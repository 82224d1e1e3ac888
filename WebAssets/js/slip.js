/*
 * The reception slip page (GET /bridge/shares/<id>/slip): the server's template
 * (Resources/Templates/slip.html) loads this file as a classic script, so it only loads the
 * page's module, js/slip-page.js, which does the work with the shared modules of lib/.
 * Once the template says <script type="module" src="/bridge/app/js/slip-page.js">, this
 * file can go.
 */
import('/bridge/app/js/slip-page.js');
