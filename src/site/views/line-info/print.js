// 画面印刷（保存）: with JavaScript the button opens the browser's print dialog on this page;
// without it, the form leads to the print view.
document.addEventListener('DOMContentLoaded', () => {
  const form = document.getElementById('print-form');
  if (!form) return;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    window.print();
  });
});
